"""All monitors in one pass over the snapshot: trips, warnings, the derating and the grid verdict.

Each monitor is a small module with its own config section (``[safety.*]``, ``[protection]``);
this file only runs them in order and collects what they say. Monitors observe; they never
control. The supervisor turns trips into faults (``controller/supervisor/fault_manager.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.config.model import Config
from controller.faults import GRID_CONDITION_CODES, INVERTER_ISLAND_CODE
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.contactor_feedback import ContactorFeedbackMonitor
from controller.protection.dc_limits import DcCurrentMonitor, check_dc_limits
from controller.protection.grid.grid_window import GridVerdict, GridWindow
from controller.protection.grid.isolation import IsolationMonitor
from controller.protection.interlocks.door import DoorMonitor
from controller.protection.interlocks.estop import EstopMonitor
from controller.protection.interlocks.ground_fault import GroundFaultMonitor
from controller.protection.interlocks.insulation import InsulationMonitor
from controller.protection.interlocks.temperature import TemperatureMonitor
from controller.protection.inverter_faults import InverterStatusCheck, check_inverter_faults
from controller.protection.inverter_settings_check import InverterSettingsCheck
from controller.protection.meter_plausibility import MeterPlausibilityMonitor
from controller.protection.plausibility import PlausibilityMonitor
from controller.protection.precharge import PrechargeMonitor
from controller.protection.sensors import check_sensors
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ProtectionResult:
    trips: list[Trip] = field(default_factory=list)
    grid: GridVerdict = field(default_factory=lambda: GridVerdict(False, "not evaluated"))
    warnings: list[Trip] = field(default_factory=list)  # WARNING severity: logged, not latched
    power_fraction: float = 1.0  # thermal derating: the share of the rated power allowed
    temperatures_c: dict[str, float] = field(default_factory=dict)


class Protection:
    """Observe and trip. It has a veto over the mode logic and never asks it for anything."""

    def __init__(self, config: Config, started_at: float) -> None:
        self._settings = config.protection
        safety = config.safety
        self.grid_window = GridWindow(config)
        self._feedback = ContactorFeedbackMonitor(config.sequence.contactor_timeout_s)
        self._started_at = started_at
        self._settings_check = InverterSettingsCheck()
        self._estop = EstopMonitor(safety.door.release_debounce_s)
        self._door = DoorMonitor(safety.door)
        self._ground = GroundFaultMonitor(safety.ground_fault)
        self._insulation = InsulationMonitor(safety.insulation)
        self._temperature = TemperatureMonitor(safety.temperature,
                                               config.protection.sensor_max_age_s, started_at)
        self._current = DcCurrentMonitor(config)
        self._plausibility = PlausibilityMonitor(config)
        self._precharge = PrechargeMonitor(config)
        self._meter = MeterPlausibilityMonitor(safety.meter)
        self._isolation = IsolationMonitor(config.grid.nominal_voltage_v)
        self._inverter_status = InverterStatusCheck(
            config.grid.nominal_voltage_v, config.grid.nominal_frequency_hz,
            config.protection.inverter_status_timeout_s)

    def set_permit_service(self, permit: bool) -> None:
        """IEEE 1547 permit service (input or command): False ceases and keeps out of service."""
        self.grid_window.set_permit_service(permit)

    def evaluate(self, snap: Snapshot, estimate: GridEstimate | None,
                 energised: bool, energy_wanted: bool = False, commanded_w: float = 0.0,
                 following: bool = False, export_wanted: bool = False,
                 told_off: bool = False) -> ProtectionResult:
        """``energised``: the mode machine is outside its safe states; ``commanded_w``: the
        previous tick's power command; ``following``: the inverter was told grid-following;
        ``told_off``: it was told OFF."""
        trips: list[Trip] = []
        for single in (self._estop.update(snap), self._door.update(snap, energised),
                       self._ground.update(snap), self._insulation.update(snap),
                       check_dc_limits(snap, self._settings), self._current.update(snap),
                       self._precharge.update(snap), self._isolation.update(snap)):
            if single is not None:
                trips.append(single)
        trips += check_sensors(snap, self._settings, energised, self._started_at)
        trips += self._feedback.update(snap)
        inverter_trips = check_inverter_faults(snap)
        # A grid trip only the inverter saw takes the charger out of service as the controller's
        # own would: the return needs the enter-service delay and ramp (IEEE 1547 4.10). An
        # island the inverter detected is the grid window's island (backup where allowed, else
        # out of service), not a latched fault: the inverter has ceased, the utility is gone.
        for trip in inverter_trips:
            if trip.code in GRID_CONDITION_CODES:
                self.grid_window.leave_service(f"{trip.code}: the inverter's own trip")
            if trip.code == INVERTER_ISLAND_CODE:
                self.grid_window.island_reported(f"the inverter's anti-islanding ({trip.detail})")
        trips += [trip for trip in inverter_trips if trip.code != INVERTER_ISLAND_CODE]
        status = self._inverter_status.update(snap)  # a report that cannot be true
        if status is not None:
            trips.append(status)
        grid = self.grid_window.update(snap.t, estimate, snap, export_wanted)
        # The inverter ceases by itself on an abnormal grid or a fault of its own: not implausible.
        trips += self._plausibility.update(snap, commanded_w, following and grid.ok, energised,
                                           told_off)
        # The response check judges only a command that does not follow the meter (charging,
        # v2g): the v2h follower holds the grid power still on purpose (docs/safety.md).
        meter = self._meter.update(snap, following and grid.ok
                                   and (commanded_w > 0.0 or export_wanted))
        if meter is not None:
            trips.append(meter)
        thermal = self._temperature.update(snap)
        trips += thermal.trips
        settings = self._settings_check.update(snap, energised or energy_wanted)
        if settings is not None:
            trips.append(settings)
        ceased = self.grid_window.cease_check(snap)
        if ceased is not None:
            trips.append(ceased)
        return ProtectionResult(trips, grid, thermal.warnings, thermal.power_fraction,
                                thermal.celsius)
