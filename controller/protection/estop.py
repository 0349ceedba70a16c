"""E-stop loop monitor. The hardware loop already cut the coil supply; this makes it latch."""

from __future__ import annotations

from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


def check_estop(snap: Snapshot) -> Trip | None:
    if snap.inputs.get("estop", False):
        return None
    return Trip("ESTOP", "E-stop loop open")
