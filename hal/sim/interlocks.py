"""The simulated charger's safety hardware: the coil rail's watchdog relay, the residual current
and insulation monitors, the NTCs, and the plant faults the fault injector sets.

:class:`hal.sim.world.SimWorld` owns one and calls :meth:`SimInterlocks.step` every plant step,
before the contactors move. Everything here is plant truth; the controller sees it only through
its inputs (GPIO, ADC, CAN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hal.sim.ground_truth import GroundTruth
from hal.sim.temperatures import ThermalModel
from hal.sim.watchdog import HardwareWatchdog


@dataclass
class SimInterlocks:
    watchdog: HardwareWatchdog = field(default_factory=HardwareWatchdog)
    thermal: ThermalModel = field(default_factory=ThermalModel)
    ground_fault: bool = False  # a residual current: the RCM's alarm relay opens
    insulation_fault: bool = False  # the IMD's alarm relay opens
    precharge_open: bool = False  # the precharge resistor is open circuit
    dc_current_offset_a: float = 0.0  # the controller's hall sensor drifts by this much
    dc_current_stuck_a: float | None = None  # the hall sensor reads this, whatever flows
    dc_link_excess_v: float = 0.0  # the DC link rises this far above the battery (DC stage)
    inverter_dc_voltage_bias_v: float = 0.0  # the inverter reports a wrong DC voltage
    coil_open: set[str] = field(default_factory=set)  # coil circuit open: never closes
    aux_cut: set[str] = field(default_factory=set)  # aux contact wire cut: always reads open
    # The inverter's firmware runs none of its own trips (with the inverter ignoring its
    # commands: it fails to cease, which exercises GRID_CEASE_FAILED).
    inverter_fails_to_cease: bool = False
    # A fault current in the DC+ conductor (a short in the DC stage, issue 20): the hall sensor
    # and the INA228's shunt both carry it; the plant's energy balance does not model it.
    dc_fault_current_a: float = 0.0
    _ceased: bool = False

    @property
    def coil_supply_ok(self) -> bool:
        return self.watchdog.held

    def step(self, now: float, dt: float, truth: GroundTruth, kick_level: bool,
             dc_current_a: float, inverter_c: float, command_present: bool,
             inverter_running: bool) -> None:
        changed = self.watchdog.step(now, kick_level)
        if changed is not None:
            truth.record(now, "watchdog_drop" if not changed else "watchdog_restore")
        self.thermal.step(dt, dc_current_a, inverter_c)
        ceased = not command_present
        if ceased and not self._ceased and inverter_running:
            truth.record(now, "inverter_command_timeout")
        self._ceased = ceased
