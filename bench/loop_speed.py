"""Virtual-time speed of the simulated charger: controller cost per tick vs plant cost.

Run with ``./dev bench``. Prints the figures; nothing here is a pass/fail test. The controller's
cost is what matters on a Pi (the plant does not exist there); the ratio of plant time to wall
time says how fast scenarios run.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import Charger

PLANT_SECONDS = 300.0


def measure(mode: str) -> None:
    charger = Charger()
    charger.request(mode)
    sup, clock = charger.sup, charger.hw.clock
    tick_s = charger.config.control.tick_s
    controller_s = plant_s = 0.0
    ticks = 0
    deadline = clock.now()
    wall0 = time.perf_counter()
    while clock.now() < PLANT_SECONDS:
        t0 = time.perf_counter()
        sup.tick()
        t1 = time.perf_counter()
        deadline += tick_s
        clock.sleep_until(deadline)
        t2 = time.perf_counter()
        controller_s += t1 - t0
        plant_s += t2 - t1
        ticks += 1
    wall = time.perf_counter() - wall0
    charger.close()
    print(f"{mode:>6}: {PLANT_SECONDS:.0f} s of plant time at {1 / tick_s:.0f} Hz in {wall:.2f} s "
          f"wall = {PLANT_SECONDS / wall:6.1f}x real time | controller "
          f"{1e6 * controller_s / ticks:6.0f} us/tick "
          f"({100 * controller_s / tick_s / ticks:4.1f} % of the tick budget) | "
          f"plant {1e6 * plant_s / ticks:6.0f} us/tick")


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} python "
          f"{platform.python_version()}")
    for mode in ("charge", "v2h"):
        measure(mode)


if __name__ == "__main__":
    main()
