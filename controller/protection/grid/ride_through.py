"""IEEE 1547-2018 ride-through: which region the grid is in and what must not trip there.

Pure functions over the tables of :mod:`controller.config.grid_codes`. The controller's own
backstops (ROCOF, vector shift, frequency drift) use the limits here so that they never act
inside a region the standard says must be ridden through; the trip elements' defaults are
consistent with the regions (``tests/test_grid_protection.py`` checks it element by element).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.grid_codes import (
    FREQ_MANDATORY_HZ,
    PHASE_JUMP_BALANCED_DEG,
    ROCOF_RIDE_THROUGH_HZ_PER_S,
    frequency_mode,
    ride_through_time_s,
    voltage_region,
)

MOMENTARY_CESSATION = "momentary_cessation"
# Two measurements of one voltage (the controller's meter, the inverter's terminals) may sit on
# either side of a cessation threshold: within this of the region the inverter may have ceased.
CESSATION_MARGIN_PU = 0.02


@dataclass(frozen=True, slots=True)
class RideThrough:
    """What the grid asks of the charger right now."""

    voltage_mode: str
    voltage_min_time_s: float
    frequency_mode: str

    @property
    def describe(self) -> str:
        if self.voltage_mode == "continuous" and self.frequency_mode == "continuous":
            return "continuous operation"
        return f"voltage {self.voltage_mode}, frequency {self.frequency_mode}"


def assess(category: str, nominal_hz: float, voltage_pu: float,
           frequency_hz: float) -> RideThrough:
    region = voltage_region(category, voltage_pu)
    return RideThrough(region.mode, ride_through_time_s(category, voltage_pu),
                       frequency_mode(nominal_hz, frequency_hz))


def rocof_limit_hz_per_s(category: str) -> float:
    """The ROCOF the charger must ride through (Table 21)."""
    return ROCOF_RIDE_THROUGH_HZ_PER_S[category]


def phase_jump_limit_deg() -> float:
    """The positive-sequence phase step the charger must ride through."""
    return PHASE_JUMP_BALANCED_DEG


def beyond_frequency_ride_through(nominal_hz: float, frequency_hz: float) -> bool:
    """Outside 57.0-61.8 Hz (at 60 Hz): no ride-through requirement any more."""
    dev = frequency_hz - nominal_hz
    return dev < FREQ_MANDATORY_HZ[0] or dev > FREQ_MANDATORY_HZ[1]


def momentary_cessation(category: str, voltage_pu: float) -> bool:
    """The voltage is in a region where the DER ceases momentarily (Category III: above
    1.10 p.u. up to the OV2 trip, below 0.50 p.u.); Categories I and II have none."""
    return (math.isfinite(voltage_pu)
            and voltage_region(category, voltage_pu).mode == MOMENTARY_CESSATION)


def near_momentary_cessation(category: str, voltage_pu: float) -> bool:
    """In a momentary-cessation region or within ``CESSATION_MARGIN_PU`` of one."""
    return any(momentary_cessation(category, voltage_pu + d)
               for d in (-CESSATION_MARGIN_PU, 0.0, CESSATION_MARGIN_PU))
