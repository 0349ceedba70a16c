"""Real time the E-stop tick spends on the state store (SQLite on a file, as on the Pi).

Run with ``./dev bench`` (or ``.venv/bin/python bench/store_tick_cost.py``). Prints figures;
nothing here is a pass/fail test. Each sample is a fresh idle charger whose store is a file in a
temporary directory; the E-stop is pressed and the one tick that latches ``ESTOP`` (a trip
event, the latched fault, its counter, the state transition) is timed with
``time.perf_counter``, with the store's writes done however the store does them. The store is
then closed (its writes finished) before the next sample. The same tick with a ``:memory:``
store is printed as the reference: what the tick costs without any disk.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import Charger

SAMPLES = 40


def estop_tick_s(directory: Path | None, index: int, settle: bool = True) -> float:
    """One E-stop tick; ``directory`` None: a ``:memory:`` store (no disk, the reference).
    ``settle``: the records of the ticks before are committed first (the writer is idle);
    else the writer may still be committing them while the E-stop tick runs."""
    path = ":memory:" if directory is None else str(directory / f"state-{index}.sqlite")
    charger = Charger(store_path=path)
    try:
        charger.run(0.2)
        if settle and hasattr(charger.store, "flush"):
            charger.store.flush()
        charger.world.press_estop()
        charger.hw.clock.sleep_until(charger.now + 0.005)
        t0 = time.perf_counter()
        charger.sup.tick()
        took = time.perf_counter() - t0
        assert "ESTOP" in charger.sup.status().faults
        return took
    finally:
        charger.close()


def report(what: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    print(f"E-stop tick, real time, {len(samples)} samples, {what}: "
          f"median {statistics.median(samples) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, "
          f"max {samples[-1] * 1e3:.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report("store on a file, writer idle",
               [estop_tick_s(Path(tmp), i) for i in range(SAMPLES)])
        report("store on a file, writer busy with the ticks before",
               [estop_tick_s(Path(tmp), SAMPLES + i, settle=False) for i in range(SAMPLES)])
    report("store in memory (no disk: the reference)",
           [estop_tick_s(None, i) for i in range(SAMPLES)])


if __name__ == "__main__":
    main()
