"""The simulated inverter's momentary cessation (IEEE 1547-2018 Category III).

Category III requires momentary cessation above 1.10 p.u. (up to the OV2 trip) and below
0.50 p.u.: the inverter stops injecting current within 0.083 s, stays synchronised and in
service (no trip, state GRID_FOLLOWING), and restores its output within 0.4 s once the voltage
is back in the continuous or mandatory range. Categories I and II have no required cessation
(their regions there are permissive): this firmware keeps running there. The category comes
from the settings frame (RideThroughCategory); without applied settings nothing ceases.
"""

from __future__ import annotations

from hal.protocols.inverter_messages import InverterSettings, RideThroughCategory

CESSATION_HIGH_PU = 1.10  # above: cease (Category III, up to the OV2 trip)
CESSATION_LOW_PU = 0.50  # below: cease
CEASE_LIMIT_S = 0.083  # IEEE 1547-2018: current ceased within this
RESTORE_LIMIT_S = 0.4  # output restored within this once the voltage is back
# Restoring, the output rises at the rated power per RESTORE_SLEW_S (not at the configured
# ramp rate, which is for a normal start): full power is back well inside RESTORE_LIMIT_S.
RESTORE_SLEW_S = 0.1


def in_cessation_region(settings: InverterSettings | None, voltage_pu: float) -> bool:
    """Momentary cessation applies to this voltage with these settings."""
    if settings is None or settings.ride_through_category is not RideThroughCategory.CAT_III:
        return False
    return voltage_pu > CESSATION_HIGH_PU or voltage_pu < CESSATION_LOW_PU


class MomentaryCessation:
    """Whether the inverter is ceased, and until when a restore may rise fast."""

    def __init__(self) -> None:
        self.active = False
        self.count = 0  # cessations so far
        self._restore_until: float | None = None

    def update(self, now: float, settings: InverterSettings | None, voltage_pu: float) -> bool:
        """True while the inverter must not inject current."""
        ceasing = in_cessation_region(settings, voltage_pu)
        if ceasing and not self.active:
            self.count += 1
        elif self.active and not ceasing:
            self._restore_until = now + RESTORE_LIMIT_S
        self.active = ceasing
        return ceasing

    def restoring(self, now: float) -> bool:
        """Just out of a cessation: the output returns at the restore slew."""
        return self._restore_until is not None and now <= self._restore_until

    def reset(self) -> None:
        self.active = False
        self._restore_until = None
