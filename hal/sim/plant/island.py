"""An unintentional island: the utility breaker opens and the home's RLC load stays on the inverter.

The island test of IEEE 1547.1 (section 5.10.2): the load is a parallel R, L, C with real power
P, quality factor Qf = R * sqrt(C / L) and resonant frequency f0 = 1 / (2 pi sqrt(L C)), or it
is balanced to the inverter's output (P_load = P_inverter, f0 = nominal) within 2 %, then the
reactive part (C) is scaled to 95..105 %.

Physics (an averaged, cycle-by-cycle model; ``grid-codes.md`` section 3.3): the grid-following
inverter is a current source whose phase leads the bus voltage by ``lead_rad`` (its reactive
setpoint plus its active anti-islanding shift). With no utility the bus frequency moves, within
about one line cycle, to where the load's phase equals the inverter's (Ropp's phase criterion)
and the voltage is the inverter current over the load's admittance. The inverter's current
amplitude follows its power setpoint over its filtered voltage (about two cycles). Sub-stepped
so any plant step is stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SUBSTEP_S = 0.001
VOLTAGE_FILTER_CYCLES = 2.0
MAX_LEAD_RAD = math.radians(60.0)
CURRENT_LIMIT = 1.2  # of the rated current


@dataclass(frozen=True, slots=True)
class RlcLoad:
    r_ohm: float
    l_h: float
    c_f: float

    @classmethod
    def from_power(cls, p_w: float, qf: float, f0_hz: float, v_nom: float) -> RlcLoad:
        r = v_nom * v_nom / p_w
        w0 = 2.0 * math.pi * f0_hz
        return cls(r, r / (w0 * qf), qf / (w0 * r))

    def scaled_reactive(self, c_pct: float) -> RlcLoad:
        """The capacitive branch at ``c_pct`` % of its value (the 1547.1 95..105 % steps)."""
        return RlcLoad(self.r_ohm, self.l_h, self.c_f * c_pct / 100.0)

    @property
    def f0_hz(self) -> float:
        return 1.0 / (2.0 * math.pi * math.sqrt(self.l_h * self.c_f))

    @property
    def qf(self) -> float:
        return self.r_ohm * math.sqrt(self.c_f / self.l_h)

    def susceptance(self, f_hz: float) -> float:
        w = 2.0 * math.pi * f_hz
        return w * self.c_f - 1.0 / (w * self.l_h)

    def admittance(self, f_hz: float) -> float:
        return math.hypot(1.0 / self.r_ohm, self.susceptance(f_hz))

    def frequency_for_phase(self, lead_rad: float) -> float:
        """The frequency at which the load current leads its voltage by ``lead_rad``:
        R (w C - 1 / (w L)) = tan(lead) -> R C w^2 - tan(lead) w - R / L = 0."""
        a = math.tan(lead_rad)
        rc = self.r_ohm * self.c_f
        w = (a + math.sqrt(a * a + 4.0 * rc * self.r_ohm / self.l_h)) / (2.0 * rc)
        return w / (2.0 * math.pi)


class Island:
    """The island's bus: ``active`` from the breaker opening until it collapses."""

    def __init__(self, nominal_voltage_v: float, nominal_frequency_hz: float) -> None:
        self.nominal_voltage_v = nominal_voltage_v
        self.nominal_frequency_hz = nominal_frequency_hz
        self.load: RlcLoad | None = None
        self.active = False
        self.voltage_v = 0.0
        self.frequency_hz = nominal_frequency_hz
        self._v_filtered = nominal_voltage_v

    def form(self, load: RlcLoad, voltage_v: float, frequency_hz: float) -> None:
        """The utility breaker opened with ``load`` on the bus, at these bus conditions."""
        self.load = load
        self.active = True
        self.voltage_v = voltage_v
        self.frequency_hz = frequency_hz
        self._v_filtered = voltage_v

    def collapse(self) -> None:
        """No source holds the bus any more (inverter ceased, K_GRID or K_AC open)."""
        self.active = False
        self.voltage_v = 0.0

    def step(self, dt: float, power_w: float, lead_rad: float, rated_current_a: float) -> None:
        """Advance by ``dt`` with the inverter delivering ``power_w`` (its setpoint, > 0)."""
        load = self.load
        if not self.active or load is None or power_w <= 0.0:
            self.collapse()
            return
        lead = max(-MAX_LEAD_RAD, min(MAX_LEAD_RAD, lead_rad))
        remaining = dt
        while remaining > 1e-12:
            h = min(SUBSTEP_S, remaining)
            remaining -= h
            cycles = h * self.frequency_hz
            target = load.frequency_for_phase(lead)
            self.frequency_hz += (target - self.frequency_hz) * min(1.0, cycles)
            self._v_filtered += (self.voltage_v - self._v_filtered) * min(
                1.0, cycles / VOLTAGE_FILTER_CYCLES)
            current = min(power_w / max(self._v_filtered, 1.0),
                          CURRENT_LIMIT * rated_current_a)
            self.voltage_v = current / load.admittance(self.frequency_hz)
