"""The numpy estimators and the grid estimator: windows in cycles, accuracy on the simulated
meter (driver + register model), phase jumps, outages."""

from __future__ import annotations

import numpy as np
import pytest

from controller.measurement import estimators as est
from controller.measurement.grid_estimator import GridEstimate, GridEstimator
from hal.interfaces.meter import AcMeterReading
from hal.sim.chips.meter_rig import MeterRig, NoiseModel, ScriptedGrid
from tests.harness import Charger

NOMINAL = 240.0


def reading(t: float, v: float = 240.0, f: float = 60.0, lost: bool = False) -> AcMeterReading:
    return AcMeterReading(t, v, 0.0 if lost else f, 1.0, 100.0, 0.0, 0.0, 0.0, lost)


def test_cycle_window_counts_cycles_of_the_tracked_period() -> None:
    t = np.arange(1, 21) * 0.02  # 20 readings, 20 ms apart, newest at 0.4 s
    assert t[est.cycle_window(t, 0.4, 1 / 50, 10)].size == 10  # 10 cycles at 50 Hz = 200 ms
    assert t[est.cycle_window(t, 0.4, 1 / 60, 10)].size == 8  # 166.7 ms at 60 Hz
    assert t[est.cycle_window(t, 0.4, 1 / 60, 5)].size == 4  # 83.3 ms
    assert t[est.time_window(t, 0.4, 0.1)].size == 5
    with pytest.raises(ValueError, match="positive"):
        est.cycle_window(t, 0.4, 0.0, 10)


def test_rms_frequency_and_slope_are_exact_on_exact_data() -> None:
    assert est.rms_of_rms(np.array([230.0, 250.0])) == pytest.approx(np.sqrt((230**2 + 250**2) / 2))
    periods = np.array([1 / 59.0, 1 / 61.0])
    assert est.frequency_from_periods(periods) == pytest.approx(2 / (1 / 59 + 1 / 61))
    t = np.linspace(0.0, 0.1, 6)
    assert est.rocof_least_squares(t, 60.0 + 2.0 * t) == pytest.approx(2.0)
    assert est.rocof_least_squares(t[:2], t[:2]) == 0.0


def test_phase_jump_is_one_odd_cycle_not_a_frequency_step() -> None:
    period = 1 / 60
    jump = np.full(8, period)
    jump[-2] = period * (1 - 10 / 360)  # +10 degrees: that crossing came early
    assert est.phase_jump_deg(jump, 3.0) == pytest.approx(10.0)
    step = np.full(8, period)
    step[-2:] = 1 / 61.0  # a frequency step changes every cycle after it
    assert est.phase_jump_deg(step, 3.0) == 0.0


def test_windows_follow_the_period_and_outage_clears_history() -> None:
    estimator = GridEstimator(NOMINAL)
    for i in range(1, 80):
        e = estimator.update(reading(i * 0.02, v=240.0 if i < 75 else 216.0))
    # 5 cycles at 60 Hz = 83 ms = the newest 4 readings (one of them low), 10 cycles = 8 of them
    assert e.voltage_5cycle_v < e.voltage_10cycle_v < 240.0
    assert e.voltage_10cycle_v == pytest.approx(np.sqrt((3 * 240**2 + 5 * 216**2) / 8))
    lost = estimator.update(reading(1.6, v=0.0, lost=True))
    assert not lost.voltage_present and lost.frequency_hz == 0.0
    back = estimator.update(reading(1.62, v=240.0))
    assert back.cycles_seen == pytest.approx(1.0)
    assert back.voltage_v == 240.0


def test_grid_estimate_keeps_the_contract_fields() -> None:
    e = GridEstimate(240.0, 1.0, 60.0, 0.0, True)  # the five original fields, positionally
    assert e.phase_jump_deg == 0.0 and e.voltage_5cycle_v == 0.0


def run_rig(grid: ScriptedGrid, seconds: float, **kwargs: float) -> list[GridEstimate]:
    rig = MeterRig(grid, NoiseModel(), seed=3)
    estimator = GridEstimator(NOMINAL, **kwargs)
    out = []
    while rig.t < seconds:
        out.append(estimator.update(rig.tick()))
    return out


@pytest.mark.parametrize("f_hz", [57.0, 63.0, 50.0])
def test_meter_accuracy_within_ieee_table_3(f_hz: float) -> None:
    """Must show 2 (in short): driver + model + estimator inside IEEE 1547 Table 3."""
    system = 50.0 if f_hz == 50.0 else 60.0
    estimates = run_rig(ScriptedGrid(system, lambda _t: 228.0, f_hz), 2.5)[-40:]
    assert max(abs(e.frequency_60cycle_hz - f_hz) for e in estimates) <= 0.010
    assert max(abs(e.frequency_5cycle_hz - f_hz) for e in estimates) <= 0.100
    assert max(abs(e.voltage_10cycle_v - 228.0) for e in estimates) <= 0.01 * NOMINAL
    assert max(abs(e.voltage_5cycle_v - 228.0) for e in estimates) <= 0.02 * NOMINAL


def test_rocof_follows_a_ramp() -> None:
    grid = ScriptedGrid(60.0, lambda _t: 240.0, 59.0, 2.0, 0.5, 2.5)
    estimates = run_rig(grid, 2.4, rocof_window_s=0.5)[-40:]
    assert np.mean([e.rocof_hz_per_s for e in estimates]) == pytest.approx(2.0, abs=0.05)


def test_phase_jump_on_the_simulated_meter() -> None:
    grid = ScriptedGrid(50.0, lambda _t: 240.0, 50.0, jumps=[(1.0, 20.0)])
    jumps = [e.phase_jump_deg for e in run_rig(grid, 1.5)]
    assert max(jumps) == pytest.approx(20.0, abs=1.0)
    assert sum(1 for j in jumps if j != 0.0) == 1


def test_the_simulated_world_reaches_the_supervisors_estimate() -> None:
    """A utility phase jump, frequency and voltage, from the plant through the meter model, the
    driver and the supervisor's estimator."""
    charger = Charger()
    try:
        charger.run(0.5)
        charger.world.grid.jump_phase(20.0)
        jumps = []
        for _ in range(10):
            charger.run(0.02)
            assert charger.sup.last_estimate is not None
            jumps.append(charger.sup.last_estimate.phase_jump_deg)
        assert max(jumps) == pytest.approx(20.0, abs=1.5)
        charger.world.grid.set_frequency(60.5)
        charger.run(1.5)
        estimate = charger.sup.last_estimate
        assert estimate is not None
        assert estimate.frequency_60cycle_hz == pytest.approx(60.5, abs=0.01)
        assert estimate.voltage_10cycle_v == pytest.approx(charger.world.grid.voltage_v,
                                                           rel=0.01)
    finally:
        charger.close()
