"""Grid voltage, frequency, ROCOF and phase jumps from the PCC meter's per-tick readings.

Keeps a history of readings (time, RMS voltage, cycle period, grid power) and evaluates the
pure estimators of :mod:`controller.measurement.estimators` on windows sized in line cycles of
the tracked period (the mean of the newest few cycle periods):

* ``voltage_v`` / ``voltage_10cycle_v``: RMS over 10 cycles; ``voltage_5cycle_v`` over 5
  (IEEE 1547-2018 Table 3: +-1 % over 10 cycles, +-2 % over 5).
* ``frequency_hz``: over 10 cycles; ``frequency_5cycle_hz`` and ``frequency_60cycle_hz`` over 5
  and 60 (Table 3: 100 mHz over 5 cycles, 10 mHz over 60).
* ``rocof_hz_per_s``: least-squares slope of the per-cycle frequency over ``rocof_window_s``.
* ``phase_jump_deg``: a phase step seen in the second-newest cycle (one tick of latency).
  Once seen, the odd cycles' periods are replaced in the history by the median period before
  them, so a phase jump moves the frequency and ROCOF windows for a tick or two, not for as long
  as the odd cycles stay in a 10- or 60-cycle window (IEEE 1547-2018 6.4.2.6: ride through it).
* ``grid_power_avg_w``: channel A power averaged over 10 cycles.

A reading without voltage (zero-crossing timeout) clears the history: every window starts again
once the voltage is back, so no estimate mixes readings from before and after an outage.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.measurement import estimators as est
from hal.interfaces.meter import AcMeterReading

HISTORY = 256  # readings kept: 60 cycles at 45 Hz is 1.33 s, 67 ticks of 20 ms
TRACKING_CYCLES = 5  # the tracked period is the mean of the newest 5 cycle periods
SHORT_CYCLES = 5.0
STANDARD_CYCLES = 10.0
LONG_CYCLES = 60.0
DEFAULT_ROCOF_WINDOW_S = 0.1
PHASE_JUMP_THRESHOLD_DEG = 3.0


@dataclass(frozen=True, slots=True)
class GridEstimate:
    voltage_v: float
    voltage_pu: float
    frequency_hz: float
    rocof_hz_per_s: float
    voltage_present: bool
    # Added by the measurement issue (defaults keep older constructors valid):
    voltage_5cycle_v: float = 0.0
    voltage_10cycle_v: float = 0.0
    frequency_5cycle_hz: float = 0.0
    frequency_60cycle_hz: float = 0.0
    phase_jump_deg: float = 0.0
    grid_power_avg_w: float = 0.0
    cycles_seen: float = 0.0  # line cycles of history (windows are partial until 60)
    sag: bool = False  # passed through from the meter's latched status
    over_voltage: bool = False


class GridEstimator:
    """``update`` adds one reading and returns the estimate over cycle-sized windows."""

    def __init__(self, nominal_voltage_v: float, window: int = HISTORY,
                 rocof_window_s: float = DEFAULT_ROCOF_WINDOW_S,
                 phase_jump_threshold_deg: float = PHASE_JUMP_THRESHOLD_DEG) -> None:
        if window < TRACKING_CYCLES:
            raise ValueError(f"window must hold at least {TRACKING_CYCLES} readings")
        if rocof_window_s <= 0.0:
            raise ValueError("rocof_window_s must be positive")
        self._nominal = nominal_voltage_v
        self._rocof_window_s = rocof_window_s
        self._jump_threshold = phase_jump_threshold_deg
        self._size = window
        # Each value is written twice (at i and i + size), so the newest ``size`` readings are
        # always one contiguous, chronological slice: no roll. Plain lists of floats: the
        # windows are small, and numpy's per-call overhead cost more than the arithmetic.
        self._t = [0.0] * (2 * window)
        self._v = [0.0] * (2 * window)
        self._period = [0.0] * (2 * window)
        self._power = [0.0] * (2 * window)
        self._count = 0
        self._next = 0

    def reset(self) -> None:
        self._count = 0
        self._next = 0

    def _append(self, reading: AcMeterReading) -> None:
        i, j = self._next, self._next + self._size
        self._t[i] = self._t[j] = float(reading.t)
        self._v[i] = self._v[j] = float(reading.voltage_rms_v)
        self._period[i] = self._period[j] = 1.0 / reading.frequency_hz
        self._power[i] = self._power[j] = float(reading.grid_power_w)
        self._next = (i + 1) % self._size
        self._count = min(self._count + 1, self._size)

    def _set_period(self, age: int, period_s: float) -> None:
        """Overwrite the period of the reading ``age`` places back (1 = newest), both copies."""
        i = (self._next - age) % self._size
        self._period[i] = self._period[i + self._size] = period_s

    def update(self, reading: AcMeterReading) -> GridEstimate:
        if reading.voltage_lost or reading.frequency_hz <= 0.0:
            self.reset()
            v = reading.voltage_rms_v
            return GridEstimate(v, v / self._nominal, 0.0, 0.0, False, v, v,
                                sag=reading.sag, over_voltage=reading.over_voltage)
        self._append(reading)
        end = self._next + self._size
        base = end - self._count
        t = self._t[base:end]
        now = reading.t
        recent = self._period[max(base, end - TRACKING_CYCLES):end]
        tracked = est.total(recent) / len(recent)
        w5 = est.cycle_window(t, now, tracked, SHORT_CYCLES)
        w10 = est.cycle_window(t, now, tracked, STANDARD_CYCLES)
        w60 = est.cycle_window(t, now, tracked, LONG_CYCLES)
        jump = est.find_phase_jump(self._period[base + w10.start:end], self._jump_threshold)
        if jump is not None:
            # The odd cycles are moved zero crossings, not a frequency: give them the period they
            # should have had, so they skew no window after this tick (read below, after this).
            for age in range(2, jump.cycles + 2):
                self._set_period(age, jump.reference_s)
        wr = est.time_window(t, now, self._rocof_window_s)
        volts, period = self._v, self._period  # a window w is buffer[base + w.start:end]
        v10 = est.rms_of_rms(volts[base + w10.start:end])
        return GridEstimate(
            voltage_v=v10,
            voltage_pu=v10 / self._nominal,
            frequency_hz=est.frequency_from_periods(period[base + w10.start:end]),
            rocof_hz_per_s=est.rocof_least_squares(
                t[wr], [1.0 / p for p in period[base + wr.start:end]]),
            voltage_present=True,
            voltage_5cycle_v=est.rms_of_rms(volts[base + w5.start:end]),
            voltage_10cycle_v=v10,
            frequency_5cycle_hz=est.frequency_from_periods(period[base + w5.start:end]),
            frequency_60cycle_hz=est.frequency_from_periods(period[base + w60.start:end]),
            phase_jump_deg=0.0 if jump is None else jump.degrees,
            grid_power_avg_w=est.window_mean(self._power[base + w10.start:end]),
            cycles_seen=float((now - t[0]) / tracked) + 1.0,
            sag=reading.sag,
            over_voltage=reading.over_voltage,
        )
