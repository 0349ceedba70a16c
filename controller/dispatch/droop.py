"""Frequency-watt droop (IEEE 1547-2018 6.5.2.7): the charger helps hold the grid frequency.

Signs follow the inverter command: power into the EV is positive, so the charger's *output*
(what 1547 calls active power) is ``-power``. Above nominal + ``db_of_hz`` the output must fall
by ``rated / (k_of x nominal)`` per Hz beyond the dead band; below nominal - ``db_uf_hz`` it rises
by ``rated / (k_uf x nominal)`` per Hz. For a charger that means:

* over-frequency: less export, or more charging where there is headroom;
* under-frequency: less charging, or more export where there is headroom.

The dispatcher passes the range the present mode may use (``low_w`` .. ``high_w``): droop never
turns charging into export or export into charging, never exports outside v2g, and never
exceeds a limit. A claimed power is a ceiling, so the dispatcher gives no headroom above it:
in practice droop reduces v2g export at over-frequency and charging at under-frequency. The
change follows the first-order response of ``controller/dispatch/response.py``: 90 % of a
step within ``response_time_s`` (the standard's open-loop response time). The reference is the
mode's own target of this tick (its pre-disturbance setpoint): the droop is an offset on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.der_settings import FrequencyDroopSettings
from controller.dispatch.response import FirstOrderResponse


@dataclass(frozen=True, slots=True)
class DroopResult:
    power_w: float  # the target after droop (+ into the EV)
    offset_w: float  # what droop added to the mode's target
    note: str


class FrequencyDroop:
    """Holds the filtered droop offset between ticks; ``reset`` when nothing is energised."""

    def __init__(self, settings: FrequencyDroopSettings, nominal_hz: float,
                 rated_power_w: float) -> None:
        self._s = settings
        self._nominal = nominal_hz
        self._rated = rated_power_w
        self._offset = FirstOrderResponse(settings.response_time_s)

    def reset(self) -> None:
        self._offset.reset()

    def wanted_offset_w(self, frequency_hz: float) -> float:
        """The steady-state offset (+ into the EV) the droop asks for at this frequency."""
        s = self._s
        over = frequency_hz - (self._nominal + s.db_of_hz)
        if over > 0.0:
            return over / (s.k_of * self._nominal) * self._rated
        under = (self._nominal - s.db_uf_hz) - frequency_hz
        if under > 0.0:
            return -under / (s.k_uf * self._nominal) * self._rated
        return 0.0

    def apply(self, t: float, target_w: float, frequency_hz: float | None, low_w: float,
              high_w: float) -> DroopResult:
        """The target with droop, inside ``low_w`` .. ``high_w`` (the mode's range)."""
        if not self._s.enabled or frequency_hz is None or not math.isfinite(frequency_hz):
            self.reset()
            return DroopResult(target_w, 0.0, "")
        filtered = self._offset.step(t, self.wanted_offset_w(frequency_hz))
        adjusted = min(max(target_w + filtered, low_w), high_w)
        offset = adjusted - target_w
        if abs(offset) < 1.0:
            return DroopResult(target_w, 0.0, "")
        side = "over" if filtered > 0.0 else "under"
        return DroopResult(adjusted, offset,
                           f"frequency droop: {frequency_hz:.3f} Hz ({side}-frequency), "
                           f"{offset:+.0f} W")
