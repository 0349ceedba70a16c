"""Per-tick CPU of the daemon, paced as it runs (issue 20 item 3), and I2C wire time per tick.

The daemon sleeps to the next tick; a back-to-back loop keeps caches and branch predictors warm
and measures a case that never runs. Here each tick is followed by the plant's step (on the
virtual clock) and then a real sleep to the 20 ms deadline, as ``v2xctl run`` does. Each tick's
thread CPU time (``time.thread_time_ns``) is split into:

- drivers: the meter and ADC drivers' own code (what a Pi runs, minus the wire),
- simulated chips: the simulated I2C bus and the register-level chip models (a Pi has silicon),
- controller: the rest of the tick (links, estimators, protection, modes, dispatch, outputs),

and the plant's step (which exists only in the simulator) is reported apart. Figures are also
given as multiples of a fixed pure-Python reference workload measured in the same run: absolute
figures compare only on one machine; the multiples are what to compare across machines.

The I2C line counts the bits the simulated bus saw per tick (``instrument.py``) and converts
them to wire time at 100 kHz (the Pi's default) and 400 kHz (what ``hw/install.sh`` sets).

    .venv/bin/python bench/tick_cpu.py          # idle, charge, v2h: 250 paced ticks each
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from instrument import TickMeter
from scenario_speed import reference_s

from controller.modes.states import State
from harness import Charger

TICKS = 250
SETTLE_S = 30.0  # unpaced plant time to reach the mode before measuring
BUS_HZ = (100_000, 400_000)
MODES = {"idle": State.IDLE, "charge": State.ENERGISED_CHARGE, "v2h": State.ENERGISED_V2H}


@dataclass
class TickCost:
    """Mean per tick, microseconds of thread CPU time, and I2C clocks per tick."""

    mode: str
    ticks: int
    controller_us: float
    drivers_us: float
    chips_us: float
    plant_us: float
    i2c_clocks: float
    i2c_transactions: float


def measure(mode: str, ticks: int = TICKS, paced: bool = True,
            settle_s: float = SETTLE_S) -> TickCost:
    charger = Charger()
    if mode != "idle":
        charger.request(mode)
    charger.run(settle_s)
    if mode in MODES and charger.state is not MODES[mode]:
        print(f"  (note: {mode} settled in {charger.state.value})")
    # The SMBus handle the drivers' I2cBus calls (the world's bus behind it).
    meter = TickMeter(charger.hw, charger.hw.meter._bus._bus)  # type: ignore[attr-defined]
    sup, clock = charger.sup, charger.hw.clock
    tick_s = charger.config.control.tick_s
    tick_ns = plant_ns = 0
    deadline = clock.now()
    wall_next = time.monotonic()
    for _ in range(ticks):
        t0 = time.thread_time_ns()
        sup.tick()
        t1 = time.thread_time_ns()
        deadline += tick_s
        clock.sleep_until(deadline)  # the plant's step
        t2 = time.thread_time_ns()
        tick_ns += t1 - t0
        plant_ns += t2 - t1
        if paced:
            wall_next += tick_s
            time.sleep(max(0.0, wall_next - time.monotonic()))
    charger.close()
    own = tick_ns - meter.driver_ns
    drivers = meter.driver_ns - meter.chip_ns
    return TickCost(mode, ticks, own / ticks / 1e3, drivers / ticks / 1e3,
                    meter.chip_ns / ticks / 1e3, plant_ns / ticks / 1e3,
                    meter.i2c_clocks / ticks, meter.i2c_transactions / ticks)


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} python "
          f"{platform.python_version()} ({platform.node()})")
    reference = reference_s()
    ref_us = reference * 1e6
    print(f"reference workload: {reference:.3f} s CPU; per-tick figures below also in "
          "millionths of it (x1e-6 ref)")
    for mode in sys.argv[1:] or list(MODES):
        cost = measure(mode)
        total = cost.controller_us + cost.drivers_us + cost.chips_us
        print(f"{mode:>6}: tick {total:6.0f} us CPU = controller {cost.controller_us:5.0f} + "
              f"drivers {cost.drivers_us:4.0f} + simulated chips {cost.chips_us:4.0f} | plant "
              f"{cost.plant_us:5.0f} us (apart) | paced, {cost.ticks} ticks")
        print(f"{'':>6}  as x1e-6 ref: tick {1e6 * total / ref_us:6.0f} (controller "
              f"{1e6 * cost.controller_us / ref_us:5.0f}, drivers "
              f"{1e6 * cost.drivers_us / ref_us:4.0f}, chips {1e6 * cost.chips_us / ref_us:4.0f})")
        wire = ", ".join(f"{1e3 * cost.i2c_clocks / hz:4.2f} ms at {hz // 1000} kHz"
                         for hz in BUS_HZ)
        print(f"{'':>6}  I2C: {cost.i2c_transactions:4.1f} transactions, "
              f"{cost.i2c_clocks:5.0f} bits per tick = {wire} on the wire")


if __name__ == "__main__":
    main()
