"""``config get|set``: read a key of the running config, validate a new value like the file.

A value is validated by the same loader as the config file (types, ranges, choices and every
cross-field rule) against the running config. Only the console's own keys (``console.*`` except
the PIN hashes) take effect at once; every other key is read by its component at start-up, so a
valid value is reported as "not applied". NaN and infinity are refused here, before the loader
sees them (NaN passes any range check). Nothing set here persists: after a restart the config
file rules. PIN hashes are never shown and cannot be set from the console.
"""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

from controller.config.loader import parse_config
from controller.config.model import Config
from controller.console.numbers import has_non_finite
from hal.errors import ConfigError

SECRET_SUFFIX = "_pin_hash"
REDACTED = "<redacted>"
LIVE_SECTION = "console"


def is_secret(key: str) -> bool:
    return key.endswith(SECRET_SUFFIX)


def _redact(key: str, value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _redact(f"{key}.{f.name}", getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if is_secret(key):
        return REDACTED if value else ""
    return list(value) if isinstance(value, tuple) else value


def lookup(config: Config, key: str) -> Any:
    """The value at dotted ``key`` (sections as tables, secrets redacted); KeyError explains."""
    node: Any = config
    walked: list[str] = []
    for part in key.split("."):
        names = [f.name for f in dataclasses.fields(node)]
        if part not in names:
            where = ".".join(walked) or "the top level"
            raise KeyError(f"{key}: unknown key (allowed in {where}: {', '.join(names)})")
        walked.append(part)
        node = getattr(node, part)
        if not dataclasses.is_dataclass(node) and len(walked) < len(key.split(".")):
            raise KeyError(f"{key}: {'.'.join(walked)} is a value, not a table")
    return _redact(key, node)


def parse_value(text: str) -> Any:
    """A TOML value (number, true/false, "string", [list]); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def validate_set(config: Config, key: str, text: str) -> tuple[Config, str]:
    """The config with ``key`` set, or ValueError naming every problem; plus what happens."""
    if is_secret(key):
        raise ValueError(f"{key}: PIN hashes are set in the config file only (make one with "
                         "`v2xctl console hash-pin`)")
    try:
        current = lookup(config, key)
    except KeyError as err:
        raise ValueError(str(err.args[0])) from None
    if isinstance(current, dict):
        raise ValueError(f"{key}: is a table; set one of its keys")
    data: dict[str, Any] = {}
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    value = parse_value(text)
    if has_non_finite(value):
        raise ValueError(f"{key} = {text[:32]}: not a finite number (NaN and infinity are "
                         "refused)")
    node[parts[-1]] = value
    try:
        updated = parse_config(data, base=config)
    except ConfigError as err:
        raise ValueError("; ".join(err.problems)) from None
    if parts[0] == LIVE_SECTION:
        effect = "applied to the console now; not persisted (the config file rules after a "\
                 "restart)"
    else:
        effect = ("valid, but not applied: the running controller reads this key only at "
                  "start-up; change it in the config file and restart (nothing persisted)")
    return updated, effect
