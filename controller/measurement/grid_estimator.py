"""Grid voltage, frequency and ROCOF from the PCC meter's per-tick readings.

A fixed-length window of the newest readings; frequency is their mean, ROCOF the least-squares
slope over the window. The measurement issue replaces the window with one sized by the tracked
line period; the outputs stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hal.interfaces.meter import AcMeterReading

MIN_POINTS_FOR_SLOPE = 3


@dataclass(frozen=True, slots=True)
class GridEstimate:
    voltage_v: float
    voltage_pu: float
    frequency_hz: float
    rocof_hz_per_s: float
    voltage_present: bool


class GridEstimator:
    """Keeps the last ``window`` readings; ``update`` returns the estimate after adding one."""

    def __init__(self, nominal_voltage_v: float, window: int = 10) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._nominal = nominal_voltage_v
        self._t = np.zeros(window)
        self._v = np.zeros(window)
        self._f = np.zeros(window)
        self._count = 0
        self._next = 0

    def reset(self) -> None:
        self._count = 0
        self._next = 0

    def update(self, reading: AcMeterReading) -> GridEstimate:
        if reading.voltage_lost or reading.frequency_hz <= 0.0:
            self.reset()
            return GridEstimate(reading.voltage_rms_v, reading.voltage_rms_v / self._nominal,
                                0.0, 0.0, False)
        size = len(self._t)
        self._t[self._next] = reading.t
        self._v[self._next] = reading.voltage_rms_v
        self._f[self._next] = reading.frequency_hz
        self._next = (self._next + 1) % size
        self._count = min(self._count + 1, size)
        n = self._count
        t, v, f = self._t[:n], self._v[:n], self._f[:n]  # ring order is irrelevant here
        f_mean = float(f.mean())
        rocof = 0.0
        if n >= MIN_POINTS_FOR_SLOPE:
            tc = t - t.mean()
            denominator = float(tc @ tc)
            if denominator > 0.0:
                rocof = float(tc @ f) / denominator  # least-squares slope (sum tc = 0)
        voltage = float(v.mean())
        return GridEstimate(voltage, voltage / self._nominal, f_mean, rocof, True)
