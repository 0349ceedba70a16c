"""Pure estimators on windows of meter readings (no state, no I/O).

The meter gives one reading per control tick: an RMS voltage (the chip's own filtered RMS) and
the duration of the last complete line cycle (the ADE7953 PERIOD register). The functions here
turn windows of those into the quantities IEEE 1547-2018 Table 3 specifies accuracy for. Windows
are chosen in line cycles of the *tracked* period (:func:`cycle_window`), never in wall time, so
a 10-cycle RMS is 10 cycles at 50 Hz and at 63 Hz alike.

Every window is any sequence of floats (a list, or a numpy array): the grid estimator passes
plain lists, because for windows of 1 to about 60 readings Python floats are several times
cheaper than numpy calls, which pay a fixed overhead each (issue 20).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

Array = Sequence[float]  # a window of readings, oldest first
FULL_TURN_DEG = 360.0
MIN_POINTS_FOR_SLOPE = 3
MIN_POINTS_FOR_JUMP = 4
MAX_JUMP_CYCLES = 2  # a jump through a zero crossing shortens two cycles


def total(values: Array) -> float:
    """Sum of a window, in Python: for the windows here (1 to about 60 readings) that is
    cheaper than any numpy call, several times per tick. Plain summation: the readings are of
    one magnitude, so the rounding is ~1e-16 relative."""
    return float(sum(values))


def cycle_window(t: Array, now: float, period_s: float, cycles: float) -> slice:
    """The newest samples (``t`` ascending) that together span ``cycles`` line cycles.

    Each sample covers the reading interval before it, so the window holds the samples taken
    after ``now - span + spacing / 2`` (``span = cycles * period_s``, ``spacing`` the mean
    interval): as many samples as best fill the span, and always the newest. A slice, so the
    window of ``t`` or of a series read with it.
    """
    if period_s <= 0.0 or cycles <= 0.0:
        raise ValueError(f"period_s ({period_s}) and cycles ({cycles}) must be positive")
    n = len(t)
    spacing = float(t[-1] - t[0]) / (n - 1) if n > 1 else 0.0
    threshold = min(now - cycles * period_s + spacing / 2.0, now - 1e-9)
    return slice(bisect_right(t, threshold), n)


def time_window(t: Array, now: float, seconds: float) -> slice:
    """The samples taken within the last ``seconds`` before ``now`` (``t`` ascending)."""
    return slice(bisect_left(t, now - seconds + 1e-9), len(t))


def rms_of_rms(values: Array) -> float:
    """RMS over a window of equal-duration RMS readings: sqrt(mean(v**2)) (energy-weighted)."""
    if len(values) == 0:
        raise ValueError("an RMS needs at least one reading")
    return math.sqrt(float(sum(v * v for v in values)) / len(values))


def frequency_from_periods(periods_s: Array) -> float:
    """Average frequency over consecutive cycles: cycles / total time (not the mean of 1/T)."""
    seconds = total(periods_s)
    if len(periods_s) == 0 or seconds <= 0.0:
        raise ValueError("needs at least one positive period")
    return len(periods_s) / seconds


def least_squares_slope(t: Array, y: Array) -> float:
    """Slope of the least-squares line through ``(t, y)`` (0.0 with fewer than 3 points)."""
    n = len(t)
    if n < MIN_POINTS_FOR_SLOPE:
        return 0.0
    mean = total(t) / n
    tc = [float(x) - mean for x in t]
    denominator = sum(c * c for c in tc)
    if denominator <= 0.0:
        return 0.0
    return float(sum(c * v for c, v in zip(tc, y, strict=True))) / denominator  # sum(tc) = 0


def rocof_least_squares(t: Array, frequency_hz: Array) -> float:
    """Rate of change of frequency (Hz/s): the least-squares slope of frequency over time."""
    return least_squares_slope(t, frequency_hz)


def wrap_deg(degrees: float) -> float:
    """An angle folded into (-180, 180] degrees."""
    folded = math.fmod(degrees, FULL_TURN_DEG)
    if folded > FULL_TURN_DEG / 2.0:
        return folded - FULL_TURN_DEG
    if folded <= -FULL_TURN_DEG / 2.0:
        return folded + FULL_TURN_DEG
    return folded


def median(values: list[float]) -> float:
    """Median of a short list (a few values: cheaper than ``np.median``)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


@dataclass(frozen=True, slots=True)
class PhaseJump:
    """A phase step seen as one or two odd cycles: its angle, how many cycles it moved (the
    newest of them is the second-newest reading) and the period they should have had."""

    degrees: float
    cycles: int
    reference_s: float


def _shift_deg(period_s: float, reference_s: float) -> float:
    """How far one cycle moved its ending zero crossing, in degrees (shorter = positive)."""
    return -(period_s - reference_s) / reference_s * FULL_TURN_DEG


def find_phase_jump(periods_s: Array, threshold_deg: float) -> PhaseJump | None:
    """A phase jump seen in the cycles just before the newest, or None.

    A step of the voltage's phase moves the zero crossings after it: one cycle is shorter or
    longer by ``jump / 360`` of a period and the next cycles are normal again (a frequency
    step, by contrast, changes every cycle after it). An advance that carries the phase through
    zero is a crossing at that instant and splits the shortening over two cycles: the one that
    ends at the jump and the next. So the cycles before the newest are compared with the median
    of the ones before them: a jump is one odd cycle, or two odd by the same sign, followed by a
    normal newest one, "odd" meaning more than ``threshold_deg`` off. A positive jump (phase
    advance) shortens. A retard that makes the detector see a crossing twice gives a very short
    cycle (``jump / 360`` of a period): the angle is folded into (-180, 180], so that reads as
    the retard it was.
    """
    values = [float(p) for p in periods_s]
    for run in range(MAX_JUMP_CYCLES, 0, -1):  # the longer run first: its first cycle is odd too
        if len(values) < run + MIN_POINTS_FOR_JUMP - 1:
            continue
        reference = median(values[:-(run + 1)])
        if reference <= 0.0:
            continue
        if abs(_shift_deg(values[-1], reference)) > threshold_deg:
            return None  # the newest is odd too: a frequency change, or a jump not over yet
        odd = [_shift_deg(p, reference) for p in values[-(run + 1):-1]]
        if all(abs(d) > threshold_deg for d in odd) and (run == 1 or odd[0] * odd[1] > 0.0):
            return PhaseJump(wrap_deg(sum(odd)), run, reference)
    return None


def phase_jump_deg(periods_s: Array, threshold_deg: float) -> float:
    """The angle of :func:`find_phase_jump` (0.0 when none)."""
    jump = find_phase_jump(periods_s, threshold_deg)
    return 0.0 if jump is None else jump.degrees


def window_mean(values: Array) -> float:
    """Mean of ``values`` over a window of equally spaced readings (power averages)."""
    if len(values) == 0:
        raise ValueError("an average needs at least one reading")
    return total(values) / len(values)
