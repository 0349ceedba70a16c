"""The EV traction battery: open-circuit voltage vs state of charge, resistance, limits."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

# Open-circuit voltage of one NMC cell against state of charge (typical published curve shape).
_SOC_POINTS = (0.0, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 0.90, 1.00)
_CELL_OCV_V = (3.00, 3.35, 3.48, 3.58, 3.70, 3.83, 3.98, 4.07, 4.18)
# Each segment's slope, as numpy's interp computes it: (dy[j+1] - dy[j]) / (dx[j+1] - dx[j]).
_SLOPES = tuple((_CELL_OCV_V[j + 1] - _CELL_OCV_V[j]) / (_SOC_POINTS[j + 1] - _SOC_POINTS[j])
                for j in range(len(_SOC_POINTS) - 1))
SECONDS_PER_HOUR = 3600.0


def cell_ocv_v(soc: float) -> float:
    """One cell's open-circuit voltage at ``soc`` (0..1), linear between the curve's points and
    flat beyond its ends: numpy's ``interp`` on a scalar, the same operations in the same order
    (the same double, bit for bit; ``tests/test_battery_ocv.py``) at a fraction of its cost.
    The battery asks once per plant step while current flows."""
    if math.isnan(soc):
        return soc
    if soc <= _SOC_POINTS[0]:
        return _CELL_OCV_V[0]
    last = len(_SOC_POINTS) - 1
    if soc >= _SOC_POINTS[last]:
        return _CELL_OCV_V[last]
    j = bisect.bisect_right(_SOC_POINTS, soc) - 1
    if _SOC_POINTS[j] == soc:
        return _CELL_OCV_V[j]
    slope = _SLOPES[j]
    value = slope * (soc - _SOC_POINTS[j]) + _CELL_OCV_V[j]
    if math.isnan(value):  # numpy's fallback: from the other end of the segment
        value = slope * (soc - _SOC_POINTS[j + 1]) + _CELL_OCV_V[j + 1]
    return value


@dataclass
class BatteryParams:
    capacity_kwh: float = 60.0
    cells_in_series: int = 96
    internal_resistance_ohm: float = 0.08
    max_charge_current_a: float = 125.0
    max_discharge_current_a: float = 100.0
    min_soc_pct: float = 10.0
    max_voltage_v: float = 410.0


class EvBattery:
    """Integrates current into charge; terminal voltage = OCV + I * R (I positive = charging)."""

    def __init__(self, params: BatteryParams, soc_pct: float) -> None:
        self.params = params
        self.soc = min(max(soc_pct / 100.0, 0.0), 1.0)
        self.current_a = 0.0
        self.charged_kwh = 0.0
        self.discharged_kwh = 0.0
        self._ocv_soc = -1.0
        self._ocv = 0.0
        nominal_v = cell_ocv_v(0.5) * params.cells_in_series
        self._capacity_ah = params.capacity_kwh * 1000.0 / nominal_v

    @property
    def soc_pct(self) -> float:
        return self.soc * 100.0

    def ocv_v(self) -> float:
        # Cached per state of charge: called several times per plant step.
        if self.soc != self._ocv_soc:
            self._ocv_soc = self.soc
            cell = cell_ocv_v(self.soc)
            self._ocv = cell * self.params.cells_in_series
        return self._ocv

    def terminal_v(self, current_a: float | None = None) -> float:
        current = self.current_a if current_a is None else current_a
        return self.ocv_v() + current * self.params.internal_resistance_ohm

    def current_for_power(self, power_w: float) -> float:
        """DC current (positive charging) that delivers ``power_w`` at the terminals."""
        ocv, r = self.ocv_v(), self.params.internal_resistance_ohm
        # P = I * (OCV + I R)  ->  R I^2 + OCV I - P = 0, the root near P / OCV.
        disc = ocv * ocv + 4.0 * r * power_w
        if disc <= 0.0:
            return -ocv / (2.0 * r)
        return (-ocv + math.sqrt(disc)) / (2.0 * r)

    def step(self, current_a: float, dt: float) -> None:
        self.current_a = current_a
        energy_kwh = current_a * self.terminal_v() * dt / SECONDS_PER_HOUR / 1000.0
        if energy_kwh >= 0:
            self.charged_kwh += energy_kwh
        else:
            self.discharged_kwh -= energy_kwh
        self.soc = min(max(self.soc + current_a * dt / SECONDS_PER_HOUR / self._capacity_ah,
                           0.0), 1.0)
