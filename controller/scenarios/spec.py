"""Load and validate a scenario file into a :class:`Scenario`, collecting every problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.config.loader import parse_config, read_toml_file
from controller.config.model import Config
from controller.scenarios.kinds import (
    COMMON_EVENT,
    COMMON_EXPECT,
    EVENTS,
    EXPECTS,
    PLANT,
    SCENARIO,
)
from controller.scenarios.params import check_table
from hal.errors import ConfigError, V2xError

DEFAULT_INVERTER_TIMEOUT_S = 0.1  # hal.sim.params.PlantParams.inverter_command_timeout_s
TOP_LEVEL = ("scenario", "plant", "config", "events", "expect")
BUILT_IN_CONFIG: dict[str, Any] = {}


class ScenarioError(V2xError, ValueError):
    """The scenario file is invalid; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Entry:
    """One event or expectation: its kind, its parameters and its position in the file."""

    kind: str
    params: dict[str, Any]
    index: int

    @property
    def at_s(self) -> float:
        return float(self.params.get("at_s", 0.0))

    @property
    def ident(self) -> str:
        return str(self.params.get("id") or f"{self.kind}#{self.index}")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    duration_s: float
    seed: int
    start: Any
    sample_s: float
    plant: dict[str, Any]
    config: Config
    events: tuple[Entry, ...]
    expectations: tuple[Entry, ...]
    source: str


def _entries(raw: Any, table: str, common: dict[str, Any], kinds: dict[str, Any],
             problems: list[str]) -> list[Entry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{table}: must be an array of tables ([[{table}]])")
        return []
    out: list[Entry] = []
    for i, item in enumerate(raw):
        prefix = f"{table}[{i}]."
        if not isinstance(item, dict):
            problems.append(f"{table}[{i}] = {item!r}: must be a table")
            continue
        kind = item.get("kind")
        if kind not in kinds:
            allowed = ", ".join(kinds)
            problems.append(f"{prefix}kind = {kind!r}: unknown kind (allowed: {allowed})"
                            if kind is not None else f"{prefix}kind: required key is missing")
            continue
        specs = {**common, **kinds[kind]}
        params = check_table(prefix, item, specs, problems)
        out.append(Entry(kind, params, i))
    return out


def _cross_checks(duration: float, events: list[Entry], expects: list[Entry],
                  problems: list[str]) -> None:
    ids = [e.params["id"] for e in events if "id" in e.params]
    for ident in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"events: id {ident!r} is used more than once")
    for ev in events:
        if ev.at_s > duration:
            problems.append(f"events[{ev.index}].at_s = {ev.at_s}: after the end of the scenario "
                            f"(duration_s = {duration})")
        if ev.kind == "fault":
            name = ev.params.get("name")
            if name == "contactor_weld" and "contactor" not in ev.params:
                problems.append(f"events[{ev.index}]: fault contactor_weld needs `contactor`")
            if name in ("controller_freeze", "inverter_bus_off") and "duration_s" not in ev.params:
                problems.append(f"events[{ev.index}]: fault {name} needs `duration_s`")
            if name == "meter_nack" and "count" not in ev.params:
                problems.append(f"events[{ev.index}]: fault meter_nack needs `count`")
            if name == "inverter_fault_code" and "bit" not in ev.params:
                problems.append(f"events[{ev.index}]: fault inverter_fault_code needs `bit`")
    for ex in expects:
        ref = ex.params.get("after_event")
        if ref is not None and ref not in ids:
            problems.append(f"expect[{ex.index}].after_event = {ref!r}: no event has that id")
        if ex.kind == "trip" and ref is None and "after_s" not in ex.params:
            problems.append(f"expect[{ex.index}]: a trip expectation needs after_event or after_s")
        if ex.kind == "energy" and "min_kwh" not in ex.params and "max_kwh" not in ex.params:
            problems.append(f"expect[{ex.index}]: an energy expectation needs min_kwh or max_kwh")
        if ex.params.get("at_s", 0.0) > duration:
            problems.append(f"expect[{ex.index}].at_s = {ex.params['at_s']}: after the end")


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    problems: list[str] = []
    for key in data:
        if key not in TOP_LEVEL:
            problems.append(f"{key}: unknown table (allowed: {', '.join(TOP_LEVEL)})")
    head_raw = data.get("scenario")
    if not isinstance(head_raw, dict):
        problems.append("scenario: required table [scenario] is missing")
        head_raw = {}
    head = check_table("scenario.", head_raw, SCENARIO, problems)
    plant_raw = data.get("plant", {})
    if not isinstance(plant_raw, dict):
        problems.append("plant: must be a table")
        plant_raw = {}
    plant = check_table("plant.", plant_raw, PLANT, problems)
    config_raw = data.get("config", {})
    if not isinstance(config_raw, dict):
        problems.append("config: must be a table")
        config_raw = {}
    overrides = _config_overrides(config_raw, head, plant)
    config = Config()
    try:
        config = parse_config(overrides, require=False)
    except ConfigError as err:
        problems.extend(f"config.{p}" if not p.startswith("GPIO") else f"config: {p}"
                        for p in err.problems)
    if config.hal.backend != "sim":
        problems.append(f"config.hal.backend = {config.hal.backend!r}: scenarios run on the "
                        "simulator ('sim')")
    for key in ("nominal_voltage_v", "nominal_frequency_hz"):
        if key in plant and getattr(config.grid, key) != plant[key]:
            problems.append(f"config.grid.{key} = {getattr(config.grid, key)}: contradicts "
                            f"plant.{key} = {plant[key]}")
    timeout = plant.get("inverter_command_timeout_s", DEFAULT_INVERTER_TIMEOUT_S)
    tick = float(head.get("tick_s", config.control.tick_s))
    if timeout < 2 * tick:
        problems.append(
            f"plant.inverter_command_timeout_s = {timeout}: the simulated inverter's factory "
            "timeout (until the controller's settings arrive) would expire between control "
            f"ticks; it must be at least 2 x control.tick_s ({2 * tick:g} s)")
    events = _entries(data.get("events"), "events", COMMON_EVENT, EVENTS, problems)
    expects = _entries(data.get("expect"), "expect", COMMON_EXPECT, EXPECTS, problems)
    duration = float(head.get("duration_s", 0.0))
    _cross_checks(duration, events, expects, problems)
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(head["name"]), description=str(head.get("description", "")),
        duration_s=duration, seed=int(head["seed"]), start=head.get("start"),
        sample_s=float(head["sample_s"]), plant=plant, config=config,
        events=tuple(sorted(events, key=lambda e: (e.at_s, e.index))),
        expectations=tuple(expects), source=source,
    )


def _config_overrides(raw: dict[str, Any], head: dict[str, Any],
                      plant: dict[str, Any]) -> dict[str, Any]:
    """The controller config a scenario runs with: built-in simulator + the file's overrides.

    The grid nominal values follow the plant unless the file sets them itself; ``tick_s`` in
    ``[scenario]`` sets the control period.
    """
    data: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    hal = data.setdefault("hal", {})
    if isinstance(hal, dict):
        hal.setdefault("backend", "sim")
    grid = data.setdefault("grid", {})
    if isinstance(grid, dict):
        for key in ("nominal_voltage_v", "nominal_frequency_hz"):
            if key in plant:
                grid.setdefault(key, plant[key])
    if "tick_s" in head:
        control = data.setdefault("control", {})
        if isinstance(control, dict):
            control.setdefault("tick_s", head["tick_s"])
    return data


def load_scenario(path: str | Path) -> Scenario:
    try:
        data = read_toml_file(path)
    except ConfigError as err:
        raise ScenarioError(err.problems) from err
    return parse_scenario(data, source=str(path))
