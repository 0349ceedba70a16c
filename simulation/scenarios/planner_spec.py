"""The scenario format's ``[planner]`` table: checked at load, every problem collected.

Scalars are checked against ``kinds.PLANNER``; each series in ``kinds.PLANNER_SERIES`` must be
a list of finite numbers in range that covers the whole run (``duration_s / step_s`` steps;
the planner does not guess prices or weather past the file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hal.config_fields import show_value
from simulation.scenarios.kinds import PLANNER, PLANNER_SERIES
from simulation.scenarios.params import check_table

MAX_SERIES = 7 * 96 * 90  # a week at the shortest step


@dataclass(frozen=True)
class PlannerSpec:
    settings: dict[str, Any]  # the scalars of kinds.PLANNER (defaults filled in)
    series: dict[str, tuple[float, ...]]  # the series given

    @property
    def step_s(self) -> float:
        return float(self.settings["step_s"])


def _series(name: str, raw: object, low: float, high: float, steps: int,
            problems: list[str]) -> tuple[float, ...] | None:
    where = f"planner.{name}"
    if not isinstance(raw, list):
        problems.append(f"{where} = {show_value(raw)}: must be a list of numbers")
        return None
    if len(raw) > MAX_SERIES:
        problems.append(f"{where}: {len(raw)} values, at most {MAX_SERIES}")
        return None
    out: list[float] = []
    for i, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}[{i}] = {show_value(value)}: must be a number")
            return None
        if not math.isfinite(value):
            problems.append(f"{where}[{i}] = {show_value(value)}: not a finite number")
            return None
        if not low <= value <= high:
            problems.append(f"{where}[{i}] = {show_value(value)}: must be from {low:g} to "
                            f"{high:g}")
            return None
        out.append(float(value))
    if len(out) < steps:
        problems.append(f"{where}: {len(out)} values, the run needs {steps} (duration_s / "
                        "step_s)")
        return None
    return tuple(out)


def parse_planner(raw: object, duration_s: float, problems: list[str]) -> PlannerSpec | None:
    """The ``[planner]`` table (None when the file has none); problems appended."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("planner: must be a table")
        return None
    scalars = {k: v for k, v in raw.items() if k not in PLANNER_SERIES}
    settings = check_table("planner.", scalars, PLANNER, problems)
    if "step_s" not in settings:
        return None
    steps = max(1, math.ceil(duration_s / settings["step_s"] - 1e-9))
    series: dict[str, tuple[float, ...]] = {}
    for name, (_doc, low, high, required) in PLANNER_SERIES.items():
        if name not in raw:
            if required:
                problems.append(f"planner.{name}: required key is missing")
            continue
        values = _series(name, raw[name], low, high, steps, problems)
        if values is not None:
            series[name] = values
    reserve, ceiling = settings.get("reserve_pct", 30.0), settings.get("max_soc_pct", 100.0)
    if reserve > ceiling:
        problems.append(f"planner.reserve_pct = {reserve:g}: above planner.max_soc_pct = "
                        f"{ceiling:g}")
    depart, prices = settings.get("depart_step"), series.get("import_price")
    if depart is not None and prices is not None and depart >= len(prices):
        problems.append(f"planner.depart_step = {depart}: the prices must reach past it "
                        f"({len(prices)} values)")
    return PlannerSpec(settings, series)
