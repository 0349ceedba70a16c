"""Enclosure door: opening it while energised latches DOOR_OPEN (live parts inside).

While idle an open door only blocks energising (a mode guard). Once tripped, the trip stays
present until the door has been closed for the release time, so a reset is refused meanwhile.
"""

from __future__ import annotations

from controller.config.safety_settings import DoorSettings
from controller.protection.debounce import Debounce
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode


class DoorMonitor:
    def __init__(self, settings: DoorSettings) -> None:
        self._open = Debounce(settings.open_debounce_s, 0.0)
        self._release_s = settings.release_debounce_s
        self._tripped = False
        self._closed_since: float | None = None

    def update(self, seen: ProtectionInput) -> Finding:
        snap, energised = seen.snap, seen.energised
        raw_open = not snap.inputs.get("door", False)
        is_open = self._open.update(snap.t, raw_open)
        if is_open and energised:
            self._tripped = True
        if raw_open:
            self._closed_since = None
        elif self._closed_since is None:
            self._closed_since = snap.t
        if self._tripped and self._closed_since is not None and (
                snap.t - self._closed_since >= self._release_s - 1e-9):
            self._tripped = False
        if not self._tripped:
            return QUIET
        return finding(Trip(FaultCode.DOOR_OPEN, "enclosure door opened while energised"
                            if raw_open else "enclosure door closed again, not yet stable"))
