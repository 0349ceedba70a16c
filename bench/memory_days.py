"""Memory over simulated days (issue 20 item 4): peak RSS after the first hour and after each day.

The bench day of ``scenario_speed.py`` (1 Hz control, 1 s plant step) repeated for ``days``
days, its events shifted by a day each time. Prints the peak resident set size (``ru_maxrss``)
after the first hour and at the end of each day, the growth per day after the first hour, and
the goal (within 1 MB a day). ``run`` instead measures the daemon's own rate (50 Hz, the
``Charger`` that ``v2xctl run`` builds) for ``minutes`` simulated minutes, peak RSS at ten points.

    .venv/bin/python bench/memory_days.py            # 7 days at 1 Hz (~4 min CPU)
    .venv/bin/python bench/memory_days.py 2          # 2 days
    .venv/bin/python bench/memory_days.py run 60     # 60 simulated minutes at 50 Hz (~30 s CPU)
"""

from __future__ import annotations

import gc
import platform
import resource
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from scenario_speed import HOUR, one_day

from controller.supervisor.loop import Supervisor
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

DAY = 24 * HOUR
GOAL_MB_PER_DAY = 1.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def days_of(days: int, day: dict[str, Any] | None = None) -> dict[str, Any]:
    """``day`` (default: the bench day) repeated ``days`` times."""
    base = day if day is not None else one_day()
    events = [dict(e, at_s=e["at_s"] + d * DAY) for d in range(days) for e in base["events"]]
    data = dict(base, events=events)
    data["scenario"] = dict(base["scenario"], name=f"bench-{days}d-1Hz",
                            duration_s=days * DAY)
    return data


def measure_days(days: int, day: dict[str, Any] | None = None,
                 duration_s: float | None = None) -> list[tuple[float, float]]:
    """(plant time, peak RSS in MB) after the first hour and at the end of each day."""
    data = days_of(days, day)
    if duration_s is not None:  # the smoke test: a few ticks (and the events inside them)
        data["scenario"]["duration_s"] = duration_s
        data["events"] = [e for e in data["events"] if e["at_s"] < duration_s]
    tick = data["scenario"]["tick_s"]  # the last tick of a day runs one tick before its end
    marks = [HOUR] + [d * DAY - tick for d in range(1, days + 1)]
    seen: list[tuple[float, float]] = []

    def on_tick(sup: Supervisor) -> None:
        now = sup.clock.now()
        if marks and now >= marks[0] - 1e-9:
            marks.pop(0)
            gc.collect()
            seen.append((now, peak_rss_mb()))

    run_scenario(parse_scenario(data), progress=None, on_tick=on_tick)
    return seen


def measure_run(minutes: float, marks: int = 10) -> list[tuple[float, float]]:
    """The daemon's rate: the default charger (50 Hz), charging; peak RSS at ``marks`` points."""
    from harness import Charger

    charger = Charger()
    charger.request("charge")
    seen = []
    step = minutes * 60.0 / marks
    for _ in range(marks):  # by count: the clock's float sum never lands exactly on the end
        charger.run(step)
        gc.collect()
        seen.append((charger.now, peak_rss_mb()))
    charger.close()
    return seen


def growth_per_day(seen: list[tuple[float, float]]) -> float:
    """MB per simulated day between the first and the last mark."""
    (t0, m0), (t1, m1) = seen[0], seen[-1]
    return (m1 - m0) / max((t1 - t0) / DAY, 1e-9)


def main() -> None:
    print(f"machine: {platform.machine()} python {platform.python_version()} "
          f"({platform.node()})")
    args = sys.argv[1:]
    if args and args[0] == "run":
        minutes = float(args[1]) if len(args) > 1 else 60.0
        seen = measure_run(minutes)
        label = f"v2xctl-run charger at 50 Hz, {minutes:.0f} simulated min"
    else:
        days = int(args[0]) if args else 7
        seen = measure_days(days)
        label = f"bench day x {days} at 1 Hz"
    for t, mb in seen:
        print(f"  t = {t / HOUR:7.1f} h: peak RSS {mb:7.1f} MB")
    if len(seen) > 1:
        rate = growth_per_day(seen)
        verdict = "met" if rate <= GOAL_MB_PER_DAY else "MISSED"
        print(f"{label}: growth after the first mark {rate:+.2f} MB per simulated day "
              f"(goal <= {GOAL_MB_PER_DAY:.0f} MB/day: {verdict})")


if __name__ == "__main__":
    main()
