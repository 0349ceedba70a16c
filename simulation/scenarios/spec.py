"""Load and validate a scenario file into a :class:`Scenario`, collecting every problem."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.config.loader import parse_config, read_toml_file
from controller.config.model import Config
from hal.config_fields import show_value
from hal.errors import ConfigError, V2xError
from simulation.scenarios.kinds import (
    COMMON_EVENT,
    COMMON_EXPECT,
    EVENTS,
    EXPECTS,
    PLANT,
    SCENARIO,
)
from simulation.scenarios.params import check_table
from simulation.scenarios.planner_spec import PlannerSpec, parse_planner

DEFAULT_INVERTER_TIMEOUT_S = 0.1  # hal.sim.params.PlantParams.inverter_command_timeout_s
TOP_LEVEL = ("scenario", "plant", "config", "events", "expect", "planner")
CONFIG_TABLES = frozenset(f.name for f in dataclasses.fields(Config))
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
    planner: PlannerSpec | None = None  # [planner]: the home energy planner drives the run


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
            problems.append(f"{table}[{i}] = {show_value(item)}: must be a table")
            continue
        kind = item.get("kind")
        if kind is None:
            problems.append(f"{prefix}kind: required key is missing")
            continue
        if not isinstance(kind, str):
            problems.append(f"{prefix}kind = {show_value(kind)}: wrong type "
                            f"{type(kind).__name__}, expected string")
            continue
        if kind not in kinds:
            problems.append(f"{prefix}kind = {show_value(kind)}: unknown kind "
                            f"(allowed: {', '.join(kinds)})")
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
        problems.extend(_expectation_bounds(ex, duration))


def _expectation_bounds(ex: Entry, duration: float) -> list[str]:
    """Bounds that no run can satisfy make the file invalid (exit 2), not a failed run."""
    params, key = ex.params, f"expect[{ex.index}]"
    out: list[str] = []
    low, high = params.get("min_kwh"), params.get("max_kwh")
    if low is not None and high is not None and low > high:
        out.append(f"{key}.min_kwh = {low}: must not exceed max_kwh = {high} "
                   "(no value can pass)")
    after, before = params.get("after_s"), params.get("before_s")
    if after is not None and after > duration:
        out.append(f"{key}.after_s = {after}: after the end of the scenario "
                   f"(duration_s = {duration})")
    elif after is not None and before is not None and after > before:
        out.append(f"{key}.after_s = {after}: must not exceed before_s = {before} "
                   "(an empty window)")
    return out


def _looks_like_a_config(data: dict[str, Any]) -> str | None:
    """One line for a controller config given as a scenario (instead of a line per table)."""
    if "scenario" in data:
        return None
    config_tables = sorted(k for k in data if k in CONFIG_TABLES)
    if not config_tables:
        return None
    shown = ", ".join(f"[{k}]" for k in config_tables[:3])
    return (f"this looks like a controller config file ({shown}), not a scenario: check it "
            "with `v2xctl config check`, run it with `v2xctl run --config`; a scenario "
            "starts with a [scenario] table (docs/scenarios.md)")


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    config_file = _looks_like_a_config(data)
    if config_file:
        raise ScenarioError([config_file])
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
    planner = parse_planner(data.get("planner"), duration, problems)
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        name=str(head["name"]), description=str(head.get("description", "")),
        duration_s=duration, seed=int(head["seed"]), start=head.get("start"),
        sample_s=float(head["sample_s"]), plant=plant, config=config,
        events=tuple(sorted(events, key=lambda e: (e.at_s, e.index))),
        expectations=tuple(expects), source=source, planner=planner,
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
