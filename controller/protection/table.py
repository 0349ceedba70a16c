"""Which monitors protection runs, in what order, the config each reads and the codes each raises.

One row per monitor (Klipper binds each module to its config section the same way). The order is
the order of the trips in a tick's result, so when several trip in one tick the first row's code
is latched first. ``codes`` is every code the monitor may return as a trip or a warning:
``Protection`` refuses (raises, and the loop goes to the safe state) a code its monitor did not
declare, and tests/test_monitor_table.py checks the table against the sources, so the table
cannot drift from what really trips. ``sections`` are the config sections the monitor reads,
its own first (``docs/config.md``).

Codes no monitor raises are listed in ``RAISED_ELSEWHERE`` with the place that raises them;
codes that a monitor and another place both raise are in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from controller.config.model import Config
from controller.faults import INVERTER_FAULT_BITS, INVERTER_ISLAND_CODE
from controller.protection.contactor_feedback import ContactorFeedbackMonitor
from controller.protection.dc_limits import DcCurrentMonitor, DcVoltageMonitor
from controller.protection.grid.grid_window import GridWindow
from controller.protection.grid.isolation import IsolationMonitor
from controller.protection.interlocks.dc_alert import DcAlertMonitor
from controller.protection.interlocks.door import DoorMonitor
from controller.protection.interlocks.estop import EstopMonitor
from controller.protection.interlocks.ground_fault import GroundFaultMonitor
from controller.protection.interlocks.insulation import InsulationMonitor
from controller.protection.interlocks.temperature import TemperatureMonitor
from controller.protection.inverter_faults import InverterFaultMonitor
from controller.protection.inverter_settings_check import InverterSettingsCheck
from controller.protection.inverter_status import InverterStatusCheck
from controller.protection.meter_plausibility import MeterPlausibilityMonitor
from controller.protection.monitor import Monitor
from controller.protection.plausibility import PlausibilityMonitor
from controller.protection.precharge import PrechargeMonitor
from controller.protection.sensors import SensorMonitor
from controller.vocabulary import FaultCode as C


@dataclass(frozen=True, slots=True)
class Wiring:
    """What a monitor is built from: the config, the loop's start time, and the grid window
    (the one monitor that watches what the window armed, ``GRID_CEASE_FAILED``)."""

    config: Config
    started_at: float
    grid: GridWindow


@dataclass(frozen=True, slots=True)
class MonitorBinding:
    name: str
    module: str  # the file that decides its trips (tests/test_monitor_table.py reads it)
    sections: tuple[str, ...]
    codes: frozenset[C]
    build: Callable[[Wiring], Monitor]


def _bind(name: str, module: str, sections: tuple[str, ...], codes: frozenset[C] | set[C],
          build: Callable[[Wiring], Monitor]) -> MonitorBinding:
    return MonitorBinding(name, f"controller/protection/{module}", sections, frozenset(codes),
                          build)


MONITORS: tuple[MonitorBinding, ...] = (
    _bind("estop", "interlocks/estop.py", ("safety.door",), {C.ESTOP},
          lambda w: EstopMonitor(w.config.safety.door.release_debounce_s)),
    _bind("door", "interlocks/door.py", ("safety.door",), {C.DOOR_OPEN},
          lambda w: DoorMonitor(w.config.safety.door)),
    _bind("ground_fault", "interlocks/ground_fault.py", ("safety.ground_fault",),
          {C.GROUND_FAULT}, lambda w: GroundFaultMonitor(w.config.safety.ground_fault)),
    _bind("insulation", "interlocks/insulation.py", ("safety.insulation",),
          {C.INSULATION_FAULT}, lambda w: InsulationMonitor(w.config.safety.insulation)),
    _bind("dc_alert", "interlocks/dc_alert.py", ("hal.i2c.adc",), {C.DC_LINK_ALERT},
          lambda w: DcAlertMonitor(w.config.hal.i2c.adc.dc_link_alert_v)),
    _bind("dc_voltage", "dc_limits.py", ("protection",), {C.DC_OVERVOLTAGE},
          lambda w: DcVoltageMonitor(w.config.protection)),
    _bind("dc_current", "dc_limits.py", ("safety.dc_current", "inverter", "limits", "protection"),
          {C.DC_OVERCURRENT}, lambda w: DcCurrentMonitor(w.config)),
    _bind("precharge", "precharge.py", ("safety.precharge", "sequence", "protection"),
          {C.PRECHARGE_TIMEOUT}, lambda w: PrechargeMonitor(w.config)),
    _bind("grid_isolation", "grid/isolation.py", ("grid",), {C.GRID_ISOLATION_FAILED},
          lambda w: IsolationMonitor(w.config.grid.nominal_voltage_v)),
    _bind("sensors", "sensors.py", ("protection",),
          {C.METER_LOST, C.SENSOR_STALE, C.ADC_LOST, C.INVERTER_COMM_LOST,
           C.EXPANDER_LOST},
          lambda w: SensorMonitor(w.config.protection, w.started_at)),
    _bind("contactor_feedback", "contactor_feedback.py", ("sequence",),
          {C.CONTACTOR_FAIL_CLOSE, C.CONTACTOR_FAIL_OPEN, C.CONTACTOR_FEEDBACK},
          lambda w: ContactorFeedbackMonitor(w.config.sequence.contactor_timeout_s)),
    # The FaultWord's island bit is the grid window's island, never a trip (RAISED_ELSEWHERE).
    _bind("inverter_faults", "inverter_faults.py", (),
          set(INVERTER_FAULT_BITS) - {INVERTER_ISLAND_CODE},
          lambda w: InverterFaultMonitor()),
    _bind("inverter_status", "inverter_status.py", ("protection", "grid"),
          {C.INVERTER_STATUS_IMPLAUSIBLE},
          lambda w: InverterStatusCheck(w.config.grid.nominal_voltage_v,
                                        w.config.grid.nominal_frequency_hz,
                                        w.config.protection.inverter_status_timeout_s)),
    _bind("plausibility", "plausibility.py", ("safety.plausibility", "protection"),
          {C.POWER_IMPLAUSIBLE, C.MEASUREMENT_DISAGREE}, lambda w: PlausibilityMonitor(w.config)),
    _bind("meter", "meter_plausibility.py", ("safety.meter",), {C.METER_IMPLAUSIBLE},
          lambda w: MeterPlausibilityMonitor(w.config.safety.meter)),
    _bind("temperature", "interlocks/temperature.py", ("safety.temperature", "protection"),
          {C.SENSOR_STALE, C.TEMP_SENSOR_FAULT, C.OVERTEMPERATURE, C.TEMP_DERATING},
          lambda w: TemperatureMonitor(w.config.safety.temperature,
                                       w.config.protection.sensor_max_age_s, w.started_at)),
    _bind("inverter_settings", "inverter_settings_check.py", (), {C.INVERTER_SETTINGS},
          lambda w: InverterSettingsCheck()),
    _bind("grid_cease", "grid/grid_trip.py", ("grid_protection",), {C.GRID_CEASE_FAILED},
          lambda w: w.grid.cease_watch),
)

# Codes raised outside the monitors: where, and why there.
RAISED_ELSEWHERE: dict[C, str] = {
    C.INSULATION_FAULT: "controller/modes/callbacks.py: the insulation test before precharge "
                        "(the monitor covers every other moment)",
    C.PRECHARGE_TIMEOUT: "controller/modes/callbacks.py: the start sequence's own precharge "
                         "timeout (the monitor is its backstop)",
    C.CONTACTOR_WELDED: "controller/modes/callbacks.py: the welding check before closing and "
                        "after opening (controller/modes/checks.py)",
    C.DC_NOT_ISOLATED: "controller/modes/callbacks.py: the stop's last resort, K_DC opened "
                       "while the DC current had not fallen",
    C.INTERNAL_ERROR: "controller/supervisor/stages.py: an exception in the tick (and "
                      "controller/modes/machine.py: one inside a transition)",
    C.LOOP_OVERRUN: "controller/supervisor/stages.py: a tick longer than safety.loop.max_tick_s",
    C.INV_ISLANDING: "controller/protection/grid/grid_window.py: the inverter's island bit is "
                     "the grid window's island (backup where allowed), never a latched fault",
    C.STORE_WRITE_FAILED: "controller/supervisor/stages.py: the state store failed to write "
                          "(controller/supervisor/recorder.py)",
}
# The EV session (issue 19) raises its own faults through the one trip path
# (controller/ev/hooks.py adds them to protection's trips).
RAISED_ELSEWHERE.update({code: "controller/ev/chademo/phases.py: the EV session (docs/ev-link.md)"
                         for code in C if code.value.startswith("EV_")})

# Catalogued but raised nowhere: the self-test fails only on faults already latched at start-up
# (``record_selftest_failure`` in controller/modes/callbacks.py), and those keep their own codes.
NEVER_RAISED: frozenset[C] = frozenset({C.SELFTEST})
