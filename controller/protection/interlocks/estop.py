"""E-stop loop monitor. The hardware loop already cut the coil supply; this makes it latch.

The trip is immediate (no assert filter: the hardware has acted anyway) and persists until the
loop has read closed for ``safety.door.release_debounce_s``, so a reset is refused meanwhile.
"""

from __future__ import annotations

from controller.protection.debounce import Debounce
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


def check_estop(snap: Snapshot) -> Trip | None:
    """The raw check (no filter): the loop is open."""
    if snap.inputs.get("estop", False):
        return None
    return Trip("ESTOP", "E-stop loop open")


class EstopMonitor:
    def __init__(self, release_s: float) -> None:
        self._filter = Debounce(0.0, release_s)

    def update(self, snap: Snapshot) -> Trip | None:
        raw_open = not snap.inputs.get("estop", False)
        if not self._filter.update(snap.t, raw_open):
            return None
        return Trip("ESTOP", "E-stop loop open" if raw_open
                    else "E-stop loop closed again, not yet stable")
