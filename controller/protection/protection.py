"""All monitors in one pass over the snapshot: trips plus the grid verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.config.model import Config
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.contactor_feedback import ContactorFeedbackMonitor
from controller.protection.dc_limits import check_dc_limits
from controller.protection.estop import check_estop
from controller.protection.grid_window import GridVerdict, GridWindow
from controller.protection.inverter_faults import check_inverter_faults
from controller.protection.inverter_settings_check import InverterSettingsCheck
from controller.protection.sensors import check_sensors
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ProtectionResult:
    trips: list[Trip] = field(default_factory=list)
    grid: GridVerdict = field(default_factory=lambda: GridVerdict(False, "not evaluated"))


class Protection:
    """Observe and trip. It has a veto over the mode logic and never asks it for anything."""

    def __init__(self, config: Config, started_at: float) -> None:
        self._settings = config.protection
        self._grid = GridWindow(config.grid, config.protection)
        self._feedback = ContactorFeedbackMonitor(config.sequence.contactor_timeout_s)
        self._started_at = started_at
        self._settings_check = InverterSettingsCheck()

    def evaluate(self, snap: Snapshot, estimate: GridEstimate | None,
                 energised: bool, energy_wanted: bool = False) -> ProtectionResult:
        trips: list[Trip] = []
        estop = check_estop(snap)
        if estop is not None:
            trips.append(estop)
        trips += check_sensors(snap, self._settings, energised, self._started_at)
        over = check_dc_limits(snap, self._settings)
        if over is not None:
            trips.append(over)
        trips += self._feedback.update(snap)
        trips += check_inverter_faults(snap)
        settings = self._settings_check.update(snap, energised or energy_wanted)
        if settings is not None:
            trips.append(settings)
        return ProtectionResult(trips, self._grid.update(snap.t, estimate))
