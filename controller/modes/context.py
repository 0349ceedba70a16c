"""What the guards may look at during one tick (set by the supervisor before triggering)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.measurement.grid_estimator import GridEstimate
from controller.modes.requests import Request
from controller.protection.protection import ProtectionResult
from controller.supervisor.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class TickContext:
    snapshot: Snapshot
    estimate: GridEstimate | None
    protection: ProtectionResult
    request: Request
    commanded_power_w: float
    latched_faults: int
    reset_requested: bool = False
    contactor_test: str | None = None  # a technician's contactor test asked for this tick
