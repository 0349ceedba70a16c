"""A phase jump moves the frequency estimate for one tick at most (IEEE 1547-2018 6.4.2.6).

The simulated ADE7953's zero-crossing timing (``hal/sim/chips/ade7953_signals.py``) feeds the
production estimator (``controller/measurement/grid_estimator.py``), tick by tick, with the jump
placed at every point of the line cycle: the default 20 ms tick is phase-locked to a 50 Hz grid,
so a scenario alone would always test the same point.
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.measurement.estimators import wrap_deg
from controller.measurement.grid_estimator import GridEstimator
from hal.interfaces.meter import AcMeterReading
from hal.sim.chips.ade7953_signals import PERIOD_CLOCK_HZ, ChipSignals
from hal.sim.truth import MeterTruth

TICK_S = 0.02
JUMP_AT_S = 1.0
RUN_S = 1.6
POINTS = 36  # points of the line cycle at which the jump happens, 10 degrees apart
TOLERANCE_HZ = 0.05  # well inside every trip setting's margin from nominal
VOLTAGE_V = 230.0


Track = tuple[list[float], list[float], list[float]]


def frequency_track(f0: float, jump_deg: float, phase0: float) -> Track:
    """10-cycle frequency, reported phase jump and the PERIOD read (s), one per tick, for a jump
    at 1 s; ``phase0`` is the voltage's phase at t = 0, in cycles."""
    now = [-phase0 / f0]  # the meter counts the cycles from its creation
    steps = [0.0]

    def cycles() -> tuple[float, float]:
        return f0 * now[0] + steps[0], steps[0]

    truth = MeterTruth(VOLTAGE_V, f0, 10.0, 2300.0, 0.0, 0.0, 0.0)
    signals = ChipSignals(lambda: now[0], lambda: truth, np.random.default_rng(1),
                             zx_jitter_s=0.0, cycles=cycles)
    signals.advance(lambda: (0.0, 0.0, 0.0), lambda: 0.0)
    estimator = GridEstimator(VOLTAGE_V)
    frequencies: list[float] = []
    jumps: list[float] = []
    periods: list[float] = []
    t = 0.0
    while t < RUN_S:
        if steps[0] == 0.0 and t >= JUMP_AT_S:
            steps[0] = jump_deg / 360.0
        now[0] = t
        signals.advance(lambda: (0.0, 0.0, 0.0), lambda: 0.0)
        frequency = PERIOD_CLOCK_HZ / (signals.period + 1)
        reading = AcMeterReading(t, VOLTAGE_V, frequency, 10.0, 2300.0, 0.0, 0.0, 0.0,
                                 voltage_lost=False)
        estimate = estimator.update(reading)
        if t > JUMP_AT_S - 0.2:
            frequencies.append(estimate.frequency_hz)
            jumps.append(estimate.phase_jump_deg)
            periods.append(1.0 / frequency)
        t = round(t + TICK_S, 9)
    return frequencies, jumps, periods


@pytest.mark.parametrize("f0", [50.0, 60.0])
@pytest.mark.parametrize("jump_deg", [20.0, -20.0, 60.0, -60.0])
def test_a_phase_jump_moves_the_frequency_for_two_ticks_at_most(f0: float, jump_deg: float) -> None:
    worst_ticks = 0
    for k in range(POINTS):
        phase0 = k / POINTS
        frequencies, jumps, _ = frequency_track(f0, jump_deg, phase0)
        off = [f for f in frequencies if abs(f - f0) > TOLERANCE_HZ]
        worst_ticks = max(worst_ticks, len(off))
        seen = [j for j in jumps if j != 0.0]
        assert len(seen) <= 1, f"jump reported twice at phase {phase0}: {seen}"
        for j in seen:  # where the odd cycle was read at all, the angle is the jump's
            assert j == pytest.approx(jump_deg, abs=2.0), f"phase {phase0}"
    # The ticks in which an odd cycle is the newest reading show it (not yet known to be a
    # jump): one, or two when the jump went through a zero crossing. A trip element needs its
    # condition for 0.16 s at least, so 40 ms trips nothing.
    assert worst_ticks <= 2


def test_an_advance_past_a_zero_crossing_is_a_crossing_at_that_instant() -> None:
    """The simulated meter: a +20 degree jump just before a crossing is a crossing at once; it
    does not swallow that crossing (which read as one period of 1.94 cycles)."""
    _, jumps, periods = frequency_track(50.0, 20.0, phase0=0.97)
    assert max(periods) < 1.01 / 50.0
    odd = [p for p in periods if p < 0.99 / 50.0]
    assert len(odd) == 2  # the cycle that ends at the jump, and the next
    assert sum(odd) == pytest.approx((2.0 - 20.0 / 360.0) / 50.0, abs=2e-5)
    assert [round(j) for j in jumps if j] == [20]


def test_a_frequency_step_is_not_mistaken_for_a_phase_jump() -> None:
    estimator = GridEstimator(VOLTAGE_V)
    t, last = 0.0, 0.0
    for i in range(100):
        f = 50.0 if i < 60 else 51.0
        last = estimator.update(AcMeterReading(t, VOLTAGE_V, f, 10.0, 2300.0, 0.0, 0.0, 0.0,
                                               voltage_lost=False)).frequency_hz
        t += TICK_S
    assert last == pytest.approx(51.0, abs=0.01)


@pytest.mark.parametrize(("angle", "folded"), [(340.0, -20.0), (-340.0, 20.0), (180.0, 180.0),
                                               (-180.0, 180.0), (20.0, 20.0), (720.0, 0.0)])
def test_wrap_deg(angle: float, folded: float) -> None:
    assert wrap_deg(angle) == pytest.approx(folded)
