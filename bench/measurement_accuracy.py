"""Measurement accuracy against IEEE 1547-2018 Table 3, on the simulated ADE7953.

The production driver reads the register model once per 20 ms control tick through a real
``I2cBus``; :class:`GridEstimator` turns the readings into estimates; each is compared with the
scripted truth. Printed: the worst error of every quantity next to its limit and target, per
operating point, and the noise model. Exit status 1 if any IEEE limit is exceeded.

    .venv/bin/python bench/measurement_accuracy.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from controller.measurement.grid_estimator import GridEstimator
from hal.sim.chips.meter_rig import MeterRig, NoiseModel, ScriptedGrid

NOMINAL_V = 240.0
WARMUP_S = 1.5  # the 60-cycle window is full after 1.05 s at 57 Hz, 1.26 s at 47.5 Hz
MEASURE_S = 3.0
LIMIT_F60_HZ, TARGET_F60_HZ = 0.010, 0.002
LIMIT_F5_HZ = 0.100
LIMIT_V10_PCT, TARGET_V10_PCT = 1.0, 0.25
LIMIT_V5_PCT = 2.0
LIMIT_ROCOF = 0.05
ROCOF_RAMP = 2.0


@dataclass
class Point:
    system_hz: float
    f_hz: float
    pu: float
    f60: float = 0.0
    f5: float = 0.0
    v10: float = 0.0
    v5: float = 0.0


def steady(point: Point, noise: NoiseModel, seed: int) -> Point:
    grid = ScriptedGrid(point.system_hz, lambda _t: point.pu * NOMINAL_V, point.f_hz)
    rig = MeterRig(grid, noise, seed)
    est = GridEstimator(NOMINAL_V)
    while rig.t < WARMUP_S + MEASURE_S:
        e = est.update(rig.tick())
        if rig.t < WARMUP_S:
            continue
        v = point.pu * NOMINAL_V
        point.f60 = max(point.f60, abs(e.frequency_60cycle_hz - point.f_hz))
        point.f5 = max(point.f5, abs(e.frequency_5cycle_hz - point.f_hz))
        point.v10 = max(point.v10, abs(e.voltage_10cycle_v - v) / NOMINAL_V * 100.0)
        point.v5 = max(point.v5, abs(e.voltage_5cycle_v - v) / NOMINAL_V * 100.0)
    return point


def rocof(system_hz: float, start_hz: float, rate: float, window_s: float, noise: NoiseModel,
          seed: int) -> tuple[float, float, float]:
    """(bias, rms error, 95th percentile |error|) of ROCOF during a ramp, after the window."""
    ramp_start, ramp_end = 1.0, 3.0
    grid = ScriptedGrid(system_hz, lambda _t: NOMINAL_V, start_hz, rate, ramp_start, ramp_end)
    rig = MeterRig(grid, noise, seed)
    est = GridEstimator(NOMINAL_V, rocof_window_s=window_s)
    errors = []
    while rig.t < ramp_end:
        e = est.update(rig.tick())
        # settled: the window and the one-cycle lag of a period reading are inside the ramp
        if rig.t > ramp_start + window_s + 2.0 / start_hz:
            errors.append(e.rocof_hz_per_s - rate)
    err = np.array(errors)
    return float(err.mean()), float(np.sqrt(np.mean(err**2))), float(np.percentile(abs(err), 95))


def main() -> int:
    noise = NoiseModel()
    print("Measurement accuracy on the simulated ADE7953 (driver + register model, 20 ms tick)")
    print(f"Noise model: {noise.describe()}")
    print(f"Each point: {WARMUP_S} s to fill the windows, then the worst error over {MEASURE_S} s")
    points = [Point(60.0, f, 1.0) for f in (57.0, 58.5, 60.0, 61.5, 63.0)]
    points += [Point(60.0, f, pu) for f in (57.0, 63.0) for pu in (0.5, 1.2)]
    points += [Point(50.0, f, 1.0) for f in (47.5, 50.0, 52.5)]
    points += [Point(50.0, 50.0, pu) for pu in (0.5, 1.2)]
    print(f"\n{'system':>6} {'f Hz':>6} {'V pu':>5} | {'f 60cyc mHz':>11} {'f 5cyc mHz':>10} | "
          f"{'V 10cyc %':>9} {'V 5cyc %':>8}")
    for i, point in enumerate(points):
        steady(point, noise, seed=10 + i)
        print(f"{point.system_hz:>6.0f} {point.f_hz:>6.1f} {point.pu:>5.2f} | "
              f"{point.f60 * 1000:>11.2f} {point.f5 * 1000:>10.2f} | "
              f"{point.v10:>9.3f} {point.v5:>8.3f}")
    worst = {
        "f60": max(p.f60 for p in points), "f5": max(p.f5 for p in points),
        "v10": max(p.v10 for p in points), "v5": max(p.v5 for p in points),
    }
    ok = True
    print("\nQuantity (IEEE 1547-2018 Table 3)      worst      limit     target  verdict")
    rows = [
        ("frequency, 60 cycles", worst["f60"] * 1000, LIMIT_F60_HZ * 1000, TARGET_F60_HZ * 1000,
         "mHz"),
        ("frequency, 5 cycles", worst["f5"] * 1000, LIMIT_F5_HZ * 1000, None, "mHz"),
        ("voltage, 10 cycles (% of nominal)", worst["v10"], LIMIT_V10_PCT, TARGET_V10_PCT, "%"),
        ("voltage, 5 cycles (% of nominal)", worst["v5"], LIMIT_V5_PCT, None, "%"),
    ]
    for name, value, limit, target, unit in rows:
        verdict = "PASS" if value <= limit else "FAIL"
        if target is not None and value <= limit:
            verdict += " (target met)" if value <= target else " (target missed)"
        ok &= value <= limit
        tgt = f"{target:>7.2f} {unit}" if target is not None else " " * 11
        print(f"{name:<36} {value:>7.2f} {unit:<3} {limit:>6.2f} {unit:<3} {tgt}  {verdict}")
    print(f"\nROCOF on a {ROCOF_RAMP:g} Hz/s ramp (limit {LIMIT_ROCOF} Hz/s on the bias, i.e. the "
          "mean error of the estimates during the ramp)")
    print(f"{'system':>6} {'window s':>8} | {'bias Hz/s':>9} {'rms Hz/s':>8} {'p95 Hz/s':>8}  "
          "verdict")
    for system, start in ((60.0, 59.0), (50.0, 49.0)):
        for window in (0.1, 0.25, 0.5):
            for rate in (ROCOF_RAMP, -ROCOF_RAMP):
                begin = start if rate > 0 else start + 2 * ROCOF_RAMP
                bias, rms, p95 = rocof(system, begin, rate, window, noise, seed=99)
                verdict = "PASS" if abs(bias) <= LIMIT_ROCOF else "FAIL"
                if window == 0.1:
                    ok &= abs(bias) <= LIMIT_ROCOF
                print(f"{system:>6.0f} {window:>8.2f} | {bias:>+9.4f} {rms:>8.4f} {p95:>8.4f}  "
                      f"{verdict} ({rate:+g} Hz/s)")
    print("\nA single ROCOF estimate over 0.1 s scatters by the rms above: the PERIOD register's "
          "4.47 us\nquantisation over 5-6 cycles. Use >= 0.25 s windows where single estimates "
          "must be within 0.05 Hz/s.")
    print("\nRESULT:", "all IEEE 1547-2018 Table 3 limits met" if ok else "LIMIT EXCEEDED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
