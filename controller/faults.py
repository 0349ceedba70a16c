"""The fault catalogue: every code, its severity, origin, who may clear it, what to check.

Severity decides the reaction (``controller/supervisor/fault_manager.py``):

- ``EMERGENCY``: every coil dropped and the inverter off within one control tick (the only case
  where DC contactors may open under load);
- ``STOP``: the power ramps to zero, the contactors open in order, then the fault latches (a
  deadline bounds the ramp: past it the stop becomes an emergency);
- ``WARNING``: logged once while present, never latched, never stops anything.

Who may clear a latched fault (``ClearBy``): ``OPERATOR`` (an ordinary reset, once the cause is
gone), ``TECHNICIAN`` (a technician reset only: welded contacts, insulation, hardware), and
``retry=True`` marks a transient fault the controller itself may clear after a back-off, a limited
number of times (``[safety.retry]``). Every latched fault survives a restart (``controller.store``).

The codes are the ``FaultCode`` members of ``controller/vocabulary.py``, equal to their strings,
so a lookup by string (``CATALOGUE["ESTOP"]``, a stored record) finds them. Which monitor raises
which code is ``controller/protection/table.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from controller.vocabulary import FaultCode


class Severity(Enum):
    EMERGENCY = "emergency"
    STOP = "stop"
    WARNING = "warning"


class ClearBy(Enum):
    OPERATOR = "operator"
    TECHNICIAN = "technician"


class Origin(Enum):
    """The layer that detected it: a controller monitor, the inverter's own report, hardware
    inputs (E-stop loop, RCM, IMD), or the controller itself (loop, internal errors)."""

    MONITOR = "monitor"
    INVERTER = "inverter"
    HARDWARE = "hardware"
    CONTROLLER = "controller"


ROLES = tuple(c.value for c in ClearBy)


@dataclass(frozen=True, slots=True)
class FaultKind:
    code: FaultCode
    severity: Severity
    check: str
    origin: Origin = Origin.MONITOR
    clear_by: ClearBy = ClearBy.OPERATOR
    retry: bool = False  # a transient fault: automatic retries with back-off, then latched

    def may_clear(self, role: str) -> bool:
        """Whether a reset by ``role`` ("operator" or "technician") clears this fault."""
        return role == ClearBy.TECHNICIAN.value or self.clear_by is ClearBy.OPERATOR


@dataclass(frozen=True, slots=True)
class Fault:
    """One occurrence: which kind, when (loop clock and wall clock), and the measured detail."""

    kind: FaultKind
    t: float
    wall_time: float
    detail: str

    @property
    def code(self) -> FaultCode:
        return self.kind.code

    def describe(self) -> str:
        return f"{self.kind.code}: {self.detail} - check {self.kind.check}"


E, S, W = Severity.EMERGENCY, Severity.STOP, Severity.WARNING
MON, INV, HW, CTL = Origin.MONITOR, Origin.INVERTER, Origin.HARDWARE, Origin.CONTROLLER
OP, TECH = ClearBy.OPERATOR, ClearBy.TECHNICIAN
C = FaultCode


def _k(code: FaultCode, severity: Severity, check: str, origin: Origin = MON,
       clear_by: ClearBy = OP, retry: bool = False) -> FaultKind:
    """One catalogue entry; a code missing from ``FaultCode`` fails here, at import."""
    return FaultKind(FaultCode(code), severity, check, origin, clear_by, retry)


# Keyed by the FaultCode members, which equal their strings: ``CATALOGUE["ESTOP"]`` finds them.
CATALOGUE: dict[str, FaultKind] = {k.code: k for k in (
    _k(C.ESTOP, E, "the E-stop buttons and loop wiring; release the button, then reset", HW),
    _k(C.DOOR_OPEN, E, "the enclosure door and its switch: close it, then reset", HW),
    _k(C.GROUND_FAULT, E, "the residual current monitor and the AC/DC wiring for a leak to "
       "earth (a technician must find the cause)", HW, TECH),
    _k(C.INSULATION_FAULT, E, "DC insulation (cable, inlet, EV): the insulation monitor alarmed; "
       "do not re-energise before a technician's insulation test", HW, TECH),
    _k(C.METER_LOST, E, "the ADE7953 meter: I2C wiring, address, 3.3 V supply", retry=True),
    _k(C.ADC_LOST, E, "the ADS1115: I2C wiring, address, supply", retry=True),
    _k(C.SENSOR_STALE, E, "the I2C bus load and the sensor named in the detail", retry=True),
    _k(C.INVERTER_COMM_LOST, E, "the inverter CAN cable, termination, inverter power",
       retry=True),
    _k(C.DC_OVERVOLTAGE, E, "the DC link voltage divider and the EV's voltage limits"),
    _k(C.DC_OVERCURRENT, E, "the DC current sensor, the limits sent to the inverter and the EV's "
       "current request"),
    _k(C.CONTACTOR_FAIL_CLOSE, E, "the named contactor's coil, driver and aux contact wiring"),
    _k(C.CONTACTOR_FAIL_OPEN, E, "the named contactor for welded contacts; do not re-energise "
       "(a technician must replace or clear it)", clear_by=TECH),
    _k(C.CONTACTOR_WELDED, E, "the named contactor: voltage across it while open means welded "
       "contacts; replace it before a technician reset", clear_by=TECH),
    _k(C.CONTACTOR_FEEDBACK, E, "the named contactor changed state with no command: its coil "
       "supply, coil circuit and driver, its aux contact and that wiring"),
    _k(C.PRECHARGE_TIMEOUT, S, "the precharge contactor and resistor, the DC link capacitors",
       retry=True),
    _k(C.OVERTEMPERATURE, S, "the sensor named in the detail: cooling, fans, terminal torque "
       "(a loose terminal heats up); it may restart once cooled", retry=True),
    _k(C.TEMP_SENSOR_FAULT, S, "the NTC named in the detail and its wiring: open or shorted "
       "(a broken sensor is not a cold reading)", clear_by=TECH),
    _k(C.TEMP_DERATING, W, "the sensor named in the detail: power is limited until it cools"),
    _k(C.POWER_IMPLAUSIBLE, S, "the inverter: it does not follow the power command (its own "
       "limits, DC wiring, firmware)"),
    _k(C.MEASUREMENT_DISAGREE, S, "the controller's sensor and the inverter's report named in the "
       "detail: calibration, divider, hall sensor offset", clear_by=TECH),
    _k(C.LOOP_OVERRUN, E, "the journal for what stalled the control loop (I2C bus, CPU load)",
       CTL, retry=True),
    _k(C.SELFTEST, E, "the item named in the detail before resetting", CTL),
    _k(C.INVERTER_SETTINGS, E, "the inverter's firmware and its protocol version: the settings "
       "it reads back differ from what was written (docs/inverter-protocol.md)"),
    _k(C.INTERNAL_ERROR, E, "the journal (journalctl -u v2x-controller) for the traceback", CTL),
    _k(C.GRID_CEASE_FAILED, E, "the inverter: the controller's own IEEE 1547 trip element "
       "cleared and the inverter was still delivering power after the grace time (its trip "
       "settings, firmware, CAN link); the controller opened the contactors itself"),
    # Faults the inverter reports in its FaultWord (hal/protocols/inverter.dbc, INV_FAULT).
    _k(C.INV_DC_OVERVOLTAGE, E, "the EV's voltage limits and the inverter's DC voltage sensing",
       INV),
    _k(C.INV_DC_UNDERVOLTAGE, S, "the DC contactors and fuses between the EV and the inverter",
       INV),
    _k(C.INV_DC_OVERCURRENT, E, "the DC current limits sent to the inverter and its DC wiring",
       INV),
    _k(C.INV_AC_OVERVOLTAGE, S, "the grid voltage at the inverter terminals (utility or wiring)",
       INV, retry=True),
    _k(C.INV_AC_UNDERVOLTAGE, S, "the grid voltage at the inverter terminals (utility or wiring)",
       INV, retry=True),
    _k(C.INV_AC_FREQUENCY, S, "the grid frequency; the inverter's frequency trip settings", INV,
       retry=True),
    _k(C.INV_OVERTEMPERATURE, S, "the inverter's fans, air filters and ambient temperature",
       INV, retry=True),
    _k(C.INV_ISLANDING, E, "the utility supply: the inverter detected an island", INV),
    _k(C.INV_COMMAND_TIMEOUT, E, "the inverter CAN link and the controller's loop (journal)",
       INV),
    _k(C.INV_COMMAND_INVALID, E, "the inverter protocol version and the command values", INV),
    _k(C.INV_INSULATION, E, "DC insulation: do not re-energise before an insulation test", INV,
       TECH),
    _k(C.INV_HARDWARE, E, "the inverter's power stage (gate driver, desaturation): service",
       INV, TECH),
    _k(C.METER_IMPLAUSIBLE, E, "the ADE7953 meter: it answers on I2C but its values are frozen "
       "or do not follow the inverter (chip supply and reset, the CT on the grid conductor, "
       "the voltage divider); the detail names the check"),
    _k(C.GRID_ISOLATION_FAILED, E, "K_GRID: the utility side came alive when the inverter began "
       "forming, so its contacts are closed although its aux contact reads open (welded "
       "contacts and a broken aux wire); replace it before a technician reset",
       clear_by=TECH),
    _k(C.INVERTER_STATUS_IMPLAUSIBLE, S, "the inverter's firmware and its sensing: its status "
       "cannot be true (the detail names the contradiction: state vs power, frequency, "
       "temperature, power with its contactors open); do not trust it to cease", clear_by=TECH),
    _k(C.DC_NOT_ISOLATED, E, "the inverter's power stage (a DC-side short, a stuck bridge), "
       "K_AC (welded with no aux contact fitted) and the DC current sensor: with the inverter "
       "disabled and the AC side open the DC current did not fall, and K_DC opened under load "
       "as the last resort", CTL, TECH),
    _k(C.STORE_WRITE_FAILED, S, "the state store's disk (full, read-only, failing SD card) and "
       "the journal for the error: events and latched faults could not be written, so a "
       "restart would not show them; the charger stops until they can", CTL),
    _k(C.DC_LINK_ALERT, E, "the DC link voltage and current and the DC stage: a chip on the DC "
       "alert line (BCM 17) saw them beyond its level, the ADS1115's comparator above "
       "hal.i2c.adc.dc_link_alert_v or the INA228's limits (hal.i2c.ina228."
       "overvoltage_alert_v, overcurrent_alert_a); the trip names which; also the ALERT wires "
       "and their pull-up", HW),
    # The EV session (issue 19, controller/ev/chademo/, docs/ev-link.md): the vehicle's own
    # reports, its timeouts, and the connector. Each ends the session; the two emergencies
    # drop every coil at once (the connector is no longer held while the EV may be live).
    _k(C.EV_BATTERY_OVERVOLTAGE, S, "the EV: it reports battery over-voltage (102.4.0); the "
       "charger's threshold voltage (0x108) and its DC voltage divider"),
    _k(C.EV_BATTERY_UNDERVOLTAGE, S, "the EV: it reports battery under-voltage (102.4.1)"),
    _k(C.EV_CURRENT_DEVIATION_REPORTED, S, "the EV reports a current deviation (102.4.2): the "
       "DC current sensor and the inverter's current control"),
    _k(C.EV_BATTERY_TEMPERATURE, S, "the EV reports a high battery temperature (102.4.3); let "
       "it cool"),
    _k(C.EV_VOLTAGE_DEVIATION_REPORTED, S, "the EV reports a voltage deviation (102.4.4): the "
       "charger's output voltage measurement"),
    _k(C.EV_SYSTEM_FAULT, S, "the EV reports a charging-system fault (102.5.2): the car's own "
       "diagnostics"),
    _k(C.EV_NOT_IN_PARK, S, "the EV's shift lever is not in Park (102.5.1)"),
    _k(C.EV_COMM_LOST, S, "the EV's CAN (can1): connector pins 8/9, the CAN HAT's termination; "
       "its frames stopped for ev.frames_timeout_s"),
    _k(C.EV_PERMISSION_TIMEOUT, S, "the EV's parameters and charge permission (switch k, "
       "connector pin 4, and its optocoupler) within ev.parameters_timeout_s of d1; a car "
       "at its own charge limit may withhold it without a reason: the detail names its SoC"),
    _k(C.EV_LOCK_TIMEOUT, S, "the connector lock actuator, its driver and the lock feedback "
       "switch"),
    _k(C.EV_CONTACTOR_TIMEOUT, S, "d2 (connector pin 10, its relay); the EV did not close its "
       "contactors within ev.contactor_close_timeout_s"),
    _k(C.EV_CONTACTOR_OPEN_TIMEOUT, S, "the EV did not open its contactors after the stop "
       "(102.5.3): the connector stays locked while its output is live"),
    _k(C.EV_OUTPUT_LIVE, S, "the output stayed above ev.unlock_below_v after the stop: the "
       "connector stays locked; the DC contactors and the EV's contactors for welding",
       clear_by=TECH),
    _k(C.EV_CURRENT_DEVIATION, S, "the output current exceeded the EV's request or limit by "
       "ev.current_deviation_a for ev.current_deviation_s: the DC current sensor, the inverter's "
       "current control"),
    _k(C.EV_VOLTAGE_WINDOW, S, "the output voltage left the EV's battery window (0x100): the "
       "voltage dividers, the EV's limits"),
    _k(C.EV_CONNECTOR_UNLOCKED, E, "the connector lock and its feedback switch: it unlocked "
       "while the EV could be live"),
    _k(C.EV_PROXIMITY_LOST, E, "the connector: it was pulled or its proximity wire (pin 7) "
       "broke while the EV could be live; inspect the connector for arcing"),
    _k(C.EV_REQUEST_TIMEOUT, S, "the EV closed its contactors and did not ask for current "
       "within ev.request_timeout_s (the car's charge settings, a timer or a full battery "
       "without a stop request)"),
    _k(C.EXPANDER_LOST, E, "the MCP23017 GPIO expander (hal.i2c.expander: I2C wiring, address, "
       "supply): the EV sequence signals d1/d2, the lock and its feedback, the vehicle's "
       "permission cannot be read or driven"),
)}

# The inverter's reports of the grid rather than of itself: each takes the charger out of
# service (IEEE 1547 enter service applies to the return), and the inverter clears the bit on a
# valid OFF command (docs/inverter-protocol.md, section 8).
GRID_CONDITION_CODES: frozenset[FaultCode] = frozenset({
    C.INV_AC_OVERVOLTAGE, C.INV_AC_UNDERVOLTAGE, C.INV_AC_FREQUENCY, C.INV_ISLANDING})
# An island the inverter detected is handed to the grid window as an island (the intentional
# island where backup is allowed), never latched: the code stays for the event log.
INVERTER_ISLAND_CODE = C.INV_ISLANDING

# INV_FAULT FaultWord bit -> fault code (bits 12..15 are reserved).
INVERTER_FAULT_BITS: tuple[FaultCode, ...] = (
    C.INV_DC_OVERVOLTAGE, C.INV_DC_UNDERVOLTAGE, C.INV_DC_OVERCURRENT, C.INV_AC_OVERVOLTAGE,
    C.INV_AC_UNDERVOLTAGE, C.INV_AC_FREQUENCY, C.INV_OVERTEMPERATURE, C.INV_ISLANDING,
    C.INV_COMMAND_TIMEOUT, C.INV_COMMAND_INVALID, C.INV_INSULATION, C.INV_HARDWARE,
)


# Faults that mean the inverter cannot be trusted to take the power away (it does not follow its
# command, or its report cannot be true): the stop does not wait for a ramp; the inverter is
# disabled and the AC side opens first, the DC side once its current is low, or as the last
# resort (recorded as a hot open): ``stopping_isolate`` in ``controller/modes/table.py``.
UNTRUSTED_INVERTER: frozenset[FaultCode] = frozenset({C.POWER_IMPLAUSIBLE,
                                                      C.INVERTER_STATUS_IMPLAUSIBLE})


def fault(code: str, t: float, wall_time: float, detail: str) -> Fault:
    """Make an occurrence of a catalogued fault (an unknown code is a programming error)."""
    return Fault(CATALOGUE[code], t, wall_time, detail)


def severity(code: str) -> Severity:
    return CATALOGUE[code].severity
