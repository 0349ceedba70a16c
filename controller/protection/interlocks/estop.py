"""E-stop loop monitor. The hardware loop already cut the coil supply; this makes it latch.

The trip is immediate (no assert filter: the hardware has acted anyway) and persists until the
loop has read closed for ``safety.door.release_debounce_s``, so a reset is refused meanwhile.
"""

from __future__ import annotations

from controller.protection.debounce import Debounce
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode


class EstopMonitor:
    def __init__(self, release_s: float) -> None:
        self._filter = Debounce(0.0, release_s)

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        raw_open = not snap.inputs.get("estop", False)
        if not self._filter.update(snap.t, raw_open):
            return QUIET
        return finding(Trip(FaultCode.ESTOP, "E-stop loop open" if raw_open
                            else "E-stop loop closed again, not yet stable"))
