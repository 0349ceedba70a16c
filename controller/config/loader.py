"""Load a TOML config into :class:`controller.config.model.Config`, collecting every problem.

Klipper's rule: every option is checked at load and unknown options are fatal. Problems are
collected (not raised one at a time) so ``v2xctl config check`` can name them all at once; each
problem line names the key, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from controller.config.model import Config
from controller.config.rules import cross_field_problems
from hal.config_fields import (
    META_KEY,
    choices_problem,
    number_problem,
    shorten,
    show_value,
)
from hal.errors import ConfigError

BOM = "\ufeff"


def read_toml_file(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or malformed file is one clear problem.

    Every problem line starts with the file name (once), so callers print it as it is.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{file}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{file}: is a directory, not a file"]) from None
    except PermissionError:
        raise ConfigError([f"{file}: cannot read: permission denied"]) from None
    except UnicodeDecodeError as err:
        raise ConfigError([f"{file}: cannot read: not UTF-8 text (byte {err.start})"]) from err
    except OSError as err:
        raise ConfigError([f"{file}: cannot read: {err.strerror or err}"]) from err
    return parse_toml(text, str(file))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    if text.startswith(BOM):
        raise ConfigError([f"{source}: starts with a UTF-8 byte order mark (BOM): save it as "
                           "UTF-8 without one"])
    try:
        return tomllib.loads(text)
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ConfigError([f"{source}: not valid TOML: arrays or inline tables nested too "
                           "deeply"]) from None
    except ValueError as err:  # TOMLDecodeError, or an integer too long to convert
        raise ConfigError([f"{source}: not valid TOML: {shorten(str(err))}"]) from err


def _looks_like_a_scenario(data: Mapping[str, Any], source: str) -> None:
    """One clear line for a scenario file given as a config (instead of a line per table)."""
    if "scenario" in data and "hal" not in data:
        raise ConfigError([f"{source}: this looks like a scenario file ([scenario]), not a "
                           "controller config: run it with `v2xctl sim` (docs/scenarios.md)"])


def load_config_file(path: str | Path) -> Config:
    """Read and validate a config file; raises :class:`ConfigError` listing every problem."""
    data = read_toml_file(path)
    _looks_like_a_scenario(data, str(path))
    return parse_config(data, require=True)


def load_config(text: str, source: str = "<config>") -> Config:
    """Parse TOML text and validate it as a config file (required keys must be present)."""
    data = parse_toml(text, source)
    _looks_like_a_scenario(data, source)
    return parse_config(data, require=True)


def parse_config(data: Mapping[str, Any], *, require: bool = False,
                 base: Config | None = None) -> Config:
    """Validate a parsed mapping. ``base`` supplies values for keys that are not given.

    With ``require`` set, keys declared ``required`` must be present (config files); without it
    (scenario overrides of the built-in config) they default.
    """
    problems: list[str] = []
    config: Config = _build(Config, data, "", problems, require,
                            base if base is not None else Config())
    if not problems:
        problems.extend(cross_field_problems(config))
    if problems:
        raise ConfigError(problems)
    return config


def _type_name(hint: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if typing.get_origin(hint) is tuple:
        return f"list of {_type_name(typing.get_args(hint)[0])}"
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args:
        return " or ".join(names.get(a, str(a)) for a in args)
    return names.get(hint, str(hint))


def _coerce(hint: Any, value: Any) -> tuple[bool, Any]:
    """Return (ok, value) for a TOML value against a field type; ints widen to floats."""
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list):
            return False, value
        item = typing.get_args(hint)[0]
        items = [_coerce(item, v) for v in value]
        if not all(ok for ok, _ in items):
            return False, value
        return True, tuple(v for _, v in items)
    allowed = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    for kind in allowed:
        if kind is bool and isinstance(value, bool):
            return True, value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value)
        if kind is str and isinstance(value, str):
            return True, value
    return False, value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_leaf(key: str, value: Any, meta: Mapping[str, Any]) -> str | None:
    """Finite first (NaN passes every comparison), then the choices or the range."""
    low, high, unit, choices = meta.get("min"), meta.get("max"), meta.get("unit", ""), \
        meta.get("choices")
    if isinstance(value, tuple):  # a list: each number finite (ranges apply to scalars)
        found = (number_problem(item, None, None) for item in value if _is_number(item))
        problem = next((p for p in found if p), None)
    elif _is_number(value):
        problem = number_problem(value, low, high, unit, choices)
    elif choices is not None and value not in choices:
        problem = choices_problem(choices)
    else:
        problem = None
    return f"{key} = {show_value(value)}: {problem}" if problem else None


def _build(cls: type[Any], data: Mapping[str, Any], prefix: str, problems: list[str],
           require: bool, base: Any) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            problems.append(f"{prefix}{key}: unknown key (allowed here: {allowed})")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        meta = fld.metadata.get(META_KEY, {})
        key = f"{prefix}{name}"
        current = getattr(base, name)
        if meta.get("section"):
            sub = data.get(name, {})
            if not isinstance(sub, Mapping):
                problems.append(f"{key} = {show_value(sub)}: must be a table ([{key}])")
                sub = {}
            values[name] = _build(type(current), sub, f"{key}.", problems, require, current)
            continue
        if name not in data:
            if require and meta.get("required"):
                choices = meta.get("choices")
                hint = f" (one of {', '.join(repr(c) for c in choices)})" if choices else ""
                problems.append(f"{key}: required key is missing{hint}")
            values[name] = current
            continue
        ok, value = _coerce(hints[name], data[name])
        if not ok:
            problems.append(
                f"{key} = {show_value(data[name])}: wrong type {type(data[name]).__name__}, "
                f"expected {_type_name(hints[name])}"
            )
            values[name] = current
            continue
        problem = _check_leaf(key, value, meta)
        if problem:
            problems.append(problem)
            values[name] = current
            continue
        values[name] = value
    return cls(**values)


