"""Simulated NTC temperatures: a first-order thermal model per sensor and the divider it drives.

Sensors: ``inverter`` (heatsink; follows the inverter model's own temperature), ``contactors``
(DC contactors, heated by the DC current) and ``inlet`` (the cable inlet, likewise). Faults:
an open or shorted sensor, and an injected heating ramp (a loose terminal, a blocked fan).
The divider physics is the board's (``hw/README.md``): NTC to ground, pull-up to the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SENSOR_NAMES = ("inverter", "contactors", "inlet")
KELVIN = 273.15
T25_K = 298.15
NTC_BETA_K = 3950.0
NTC_R25_OHM = 10000.0
PULLUP_OHM = 10000.0
AMBIENT_C = 25.0
RISE_AT_REF_C = {"contactors": 30.0, "inlet": 25.0}  # temperature rise at REF_CURRENT_A
REF_CURRENT_A = 125.0
TAU_S = 120.0


@dataclass
class SensorState:
    base_c: float = AMBIENT_C  # from the thermal model
    fault: str | None = None  # "open" or "short"
    ramp_c_per_s: float = 0.0
    extra_c: float = 0.0  # injected heating

    @property
    def celsius(self) -> float:
        return self.base_c + self.extra_c


@dataclass
class ThermalModel:
    sensors: dict[str, SensorState] = field(
        default_factory=lambda: {name: SensorState() for name in SENSOR_NAMES})

    def step(self, dt: float, dc_current_a: float, inverter_c: float) -> None:
        for name, state in self.sensors.items():
            state.extra_c += state.ramp_c_per_s * dt
            if name == "inverter":
                state.base_c = inverter_c
            else:
                target = AMBIENT_C + RISE_AT_REF_C[name] * (dc_current_a / REF_CURRENT_A) ** 2
                state.base_c += (target - state.base_c) * min(1.0, dt / TAU_S)

    def ratio(self, name: str) -> float:
        state = self.sensors[name]
        if state.fault == "open":
            return 1.0
        if state.fault == "short":
            return 0.0
        r = NTC_R25_OHM * math.exp(NTC_BETA_K * (1.0 / (state.celsius + KELVIN) - 1.0 / T25_K))
        return r / (r + PULLUP_OHM)
