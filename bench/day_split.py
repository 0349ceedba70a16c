"""The realistic day's CPU split: production tick, simulated chips, plant, invariant checker.

``scenario_speed.one_day`` (or its first ``hours``) with thread CPU time accumulated, without a
profiler, in:

- the simulated I2C bus and its chip models (every ``SimSMBus`` transfer; the controller's I2C
  reader calls them inline in the tick),
- the plant's step (``SimWorld.step_to``: the physics, the simulated inverter, the EV, the
  CAN peers' frames),
- the invariant checker (after every tick).

What remains is the production code the daemon runs on a Pi (the tick's stages, protection,
estimators, drivers, codecs, ``hal/i2c.py``; the simulated CAN wire's controller ends, ~2 %
under cProfile, are in it too) and the scenario runner. The production share is the floor no
simulator cut can go below.

    .venv/bin/python bench/day_split.py [hours]     # default: the whole day
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_speed import HOUR, one_day, reference_s

from hal.sim.i2c_bus import SimSMBus
from hal.sim.world import SimWorld
from simulation.invariants import InvariantChecker
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

BUCKETS = ("chips", "plant", "invariants")
# (owner, method, bucket): where the simulator's time is accumulated.
TIMED: tuple[tuple[type, str, str], ...] = (
    (SimSMBus, "i2c_rdwr", "chips"), (SimSMBus, "read_i2c_block_data", "chips"),
    (SimSMBus, "write_i2c_block_data", "chips"), (SimWorld, "step_to", "plant"),
    (InvariantChecker, "check", "invariants"),
    (InvariantChecker, "check_controller_record", "invariants"))


def _timed(inner: Callable[..., Any], bucket: str, spent_ns: dict[str, int]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time_ns()
        try:
            return inner(*args, **kwargs)
        finally:
            spent_ns[bucket] += time.thread_time_ns() - t0

    return timed


def measure(hours: float = 24.0) -> tuple[float, dict[str, float], bool]:
    """The day's (or its first ``hours``') thread CPU seconds, the simulator's buckets in
    seconds, and whether it passed. The classes are patched only for the run."""
    spent_ns = dict.fromkeys(BUCKETS, 0)
    originals = [(owner, name, owner.__dict__[name]) for owner, name, _ in TIMED]
    for owner, name, bucket in TIMED:
        setattr(owner, name, _timed(getattr(owner, name), bucket, spent_ns))
    try:
        data = one_day()
        data["scenario"]["duration_s"] = hours * HOUR
        data["events"] = [e for e in data["events"] if e["at_s"] < hours * HOUR]
        cpu0 = time.thread_time_ns()
        report = run_scenario(parse_scenario(data), progress=None)
        total = (time.thread_time_ns() - cpu0) / 1e9
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return total, {b: ns / 1e9 for b, ns in spent_ns.items()}, bool(report["passed"])


def parse_hours(argv: list[str]) -> float:
    """The hours to run from the command line (default the whole day): a finite number above
    0 and at most 24, or SystemExit with the reason."""
    if len(argv) < 2:
        return 24.0
    try:
        hours = float(argv[1])
    except ValueError:
        raise SystemExit(f"day_split: hours must be a number, not {argv[1]!r}") from None
    if not math.isfinite(hours) or not 0.0 < hours <= 24.0:
        raise SystemExit(f"day_split: hours must be above 0 and at most 24, not {argv[1]}")
    return hours


def main() -> None:
    hours = parse_hours(sys.argv)
    reference = reference_s()
    total, buckets, passed = measure(hours)
    print(f"{hours:g} h: {total:.2f} s CPU = {total / reference:.1f} x the reference "
          f"({reference:.3f} s); {'passed' if passed else 'FAILED'}")
    for bucket, seconds in buckets.items():
        print(f"  {bucket:>10}: {seconds:6.2f} s = {100 * seconds / total:4.1f} %")
    rest = total - sum(buckets.values())
    print(f"  production tick and runner: {rest:6.2f} s = {100 * rest / total:4.1f} % "
          f"(= {rest / reference:.1f} x the reference)")


if __name__ == "__main__":
    main()
