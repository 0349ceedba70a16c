"""The external hardware watchdog, modelled: a retriggerable monostable holding the K_WD relay.

Every edge on the kick pin retriggers the monostable; when no edge arrives for ``timeout_s`` its
output falls, K_WD drops and the contactor coil rail is dead (like an open E-stop loop, but
after the E-stop sense point, so the controller does not see an E-stop). The edges coming back
pull K_WD in again. On the real board the relay is off until the first edges; the model arms at
the first edge, so HAL tests that switch a contactor without a control loop still work.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT_S = 0.15  # 74HC123 with the reference R/C: 100-200 ms


@dataclass
class HardwareWatchdog:
    timeout_s: float = DEFAULT_TIMEOUT_S
    armed: bool = False
    held: bool = True  # K_WD pulled in: the coil rail is live
    drops: int = 0
    _last_level: bool | None = None
    _last_edge: float = 0.0

    def step(self, now: float, level: bool) -> bool | None:
        """Advance with the kick pin's level; returns the new ``held`` when it changed."""
        if self._last_level is not None and level != self._last_level:
            self._last_edge = now
            self.armed = True
        self._last_level = level
        if not self.armed:
            return None
        held = now - self._last_edge <= self.timeout_s + 1e-9
        if held == self.held:
            return None
        self.held = held
        if not held:
            self.drops += 1
        return held
