"""The gateway's own config file: TOML, strictly loaded, one section per integration.

It is separate from the controller's config (secrets such as the MQTT password never go there,
and the controller never reads this file). Every key is declared once with
``hal.config_fields.setting`` (unit, range or choices, one line of meaning), like the
controller's model. A section is a frozen dataclass listed in ``SECTIONS``: an integration adds
its own in its own file and registers it here with one line. Unknown tables and keys, wrong
types, NaN, infinity and out-of-range values are errors, all of them collected and reported
together (``GatewayConfigError``).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from gateway.ocpp.settings import OcppSettings
from gateway.planner.settings import PlannerSection
from gateway.settings import ControllerLinkSettings, MqttSettings, StatusPageSettings
from hal.config_fields import META_KEY, choices_problem, number_problem, show_value
from hal.errors import ConfigError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    name: str  # the TOML table
    settings: type[Any]  # a frozen dataclass of ``setting`` fields
    doc: str


# One line per integration (planner and OCPP add theirs here).
SECTIONS: tuple[Section, ...] = (
    Section("controller", ControllerLinkSettings, "the controller's control socket"),
    Section("mqtt", MqttSettings, "MQTT and Home Assistant discovery"),
    Section("status_page", StatusPageSettings, "the local status page"),
    Section("ocpp", OcppSettings, "OCPP charging station for a CSMS or aggregator (docs/ocpp.md)"),
    Section("planner", PlannerSection, "the home energy planner (docs/planner.md)"),
)


class GatewayConfigError(ConfigError):
    """The gateway's config file has problems (every one of them in ``problems``)."""


@dataclasses.dataclass(frozen=True)
class GatewayConfig:
    sections: Mapping[str, object]

    def get(self, settings: type[T]) -> T:
        """The section of type ``settings`` (as loaded, or its defaults)."""
        for value in self.sections.values():
            if isinstance(value, settings):
                return value
        raise KeyError(f"{settings.__name__} is not a registered gateway config section")


def _type_ok(hint: Any, value: Any) -> tuple[bool, Any]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arm in typing.get_args(hint):
            if arm is type(None):
                continue
            ok, coerced = _type_ok(arm, value)
            if ok:
                return True, coerced
        return False, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if typing.get_origin(hint) is tuple:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return ok, tuple(value) if ok else value
    return False, value


def _leaf_problem(key: str, value: Any, meta: Mapping[str, Any]) -> str | None:
    choices = meta.get("choices")
    problem: str | None = None
    if isinstance(value, float | int) and not isinstance(value, bool):
        problem = number_problem(value, meta.get("min"), meta.get("max"), meta.get("unit", ""),
                                 choices)
    elif choices is not None and value not in choices:
        problem = choices_problem(choices)
    return f"{key} = {show_value(value)}: {problem}" if problem else None


def build_section(cls: type[T], data: Mapping[str, Any], prefix: str,
                  problems: list[str]) -> T:
    """``cls`` from a TOML table; problems appended (the default is kept for a bad key)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            problems.append(f"{prefix}{key}: unknown key (allowed here: "
                            f"{', '.join(sorted(fields))})")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in data:
            continue
        key, raw = f"{prefix}{name}", data[name]
        ok, value = _type_ok(hints[name], raw)
        if not ok:
            problems.append(f"{key} = {show_value(raw)}: wrong type {type(raw).__name__}")
            continue
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{key} = {show_value(raw)}: not a finite number")
            continue
        problem = _leaf_problem(key, value, fld.metadata.get(META_KEY, {}))
        if problem:
            problems.append(problem)
            continue
        values[name] = value
    try:
        return cls(**values)
    except ValueError as err:  # the section's own rules between keys (e.g. [ocpp])
        problems.extend(getattr(err, "problems", [str(err)]))
        return cls()


def parse_gateway_config(data: Mapping[str, Any]) -> GatewayConfig:
    problems: list[str] = []
    known = {s.name: s for s in SECTIONS}
    for name, value in data.items():
        if name not in known:
            problems.append(f"[{name}]: unknown section (allowed: {', '.join(known)})")
        elif not isinstance(value, Mapping):
            problems.append(f"{name} = {show_value(value)}: must be a table ([{name}])")
    sections = {}
    for section in SECTIONS:
        table = data.get(section.name, {})
        sections[section.name] = build_section(
            section.settings, table if isinstance(table, Mapping) else {}, f"{section.name}.",
            problems)
    if problems:
        raise GatewayConfigError(problems)
    return GatewayConfig(sections)


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """The gateway's config from a TOML file (GatewayConfigError listing every problem)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GatewayConfigError([f"{path}: cannot read it: {err}"]) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise GatewayConfigError([f"{path}: not valid TOML: {err}"]) from err
    return parse_gateway_config(data)
