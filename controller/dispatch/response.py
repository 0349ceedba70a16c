"""The open-loop response of the IEEE 1547 DER functions (frequency droop, volt-var, watt-var).

IEEE 1547-2018 sets an open-loop response time: the time to 90 % of a change. A first-order lag
reaches 90 % after ``tau x ln 10``; the lag here takes 80 % of the response time, leaving the
rest for the 10-cycle measurement window, the dispatcher's ramp and the inverter's own ramp.
"""

from __future__ import annotations

import math

NINETY_PERCENT_TIME_CONSTANTS = math.log(10.0)  # 1 - exp(-T / tau) = 0.9 -> T = tau ln 10
RESPONSE_SHARE = 0.8


class FirstOrderResponse:
    """``value`` follows ``step``'s target with the response time; ``reset`` to zero."""

    def __init__(self, response_time_s: float) -> None:
        self._tau = RESPONSE_SHARE * response_time_s / NINETY_PERCENT_TIME_CONSTANTS
        self.value = 0.0
        self._last_t: float | None = None

    def reset(self) -> None:
        self.value = 0.0
        self._last_t = None

    def step(self, t: float, target: float, *, follow: bool = True) -> float:
        """Move toward ``target`` for the time since the last step (``follow=False``: jump to
        it, as the modes without a response time do)."""
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        if follow:
            self.value += (target - self.value) * (1.0 - math.exp(-dt / self._tau))
        else:
            self.value = target
        return self.value
