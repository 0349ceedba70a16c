"""The fault catalogue: every code, its severity, and what a technician should check.

Severity decides the reaction: ``EMERGENCY`` opens everything within one control tick (the only
case where DC contactors may open under load); ``STOP`` ramps down and then latches. Every fault
here latches until an explicit reset and survives a restart (``controller.store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    EMERGENCY = "emergency"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class FaultKind:
    code: str
    severity: Severity
    check: str


@dataclass(frozen=True, slots=True)
class Fault:
    """One occurrence: which kind, when (loop clock and wall clock), and the measured detail."""

    kind: FaultKind
    t: float
    wall_time: float
    detail: str

    @property
    def code(self) -> str:
        return self.kind.code

    def describe(self) -> str:
        return f"{self.kind.code}: {self.detail} - check {self.kind.check}"


def _k(code: str, severity: Severity, check: str) -> FaultKind:
    return FaultKind(code, severity, check)


E, S = Severity.EMERGENCY, Severity.STOP
CATALOGUE: dict[str, FaultKind] = {k.code: k for k in (
    _k("ESTOP", E, "the E-stop buttons and loop wiring; release the button, then reset"),
    _k("METER_LOST", E, "the ADE7953 meter: I2C wiring, address, 3.3 V supply"),
    _k("ADC_LOST", E, "the ADS1115: I2C wiring, address, supply"),
    _k("SENSOR_STALE", E, "the I2C bus load and the sensor named in the detail"),
    _k("INVERTER_COMM_LOST", E, "the inverter CAN cable, termination, inverter power"),
    _k("DC_OVERVOLTAGE", E, "the DC link voltage divider and the EV's voltage limits"),
    _k("CONTACTOR_FAIL_CLOSE", E, "the named contactor's coil, driver and aux contact wiring"),
    _k("CONTACTOR_FAIL_OPEN", E, "the named contactor for welding; do not re-energise"),
    _k("CONTACTOR_FEEDBACK", E, "the named contactor's aux contact and its wiring"),
    _k("PRECHARGE_TIMEOUT", S, "the precharge contactor and resistor, the DC link capacitors"),
    _k("SELFTEST", E, "the item named in the detail before resetting"),
    _k("INVERTER_SETTINGS", E, "the inverter's firmware and its protocol version: the settings "
       "it reads back differ from what was written (docs/inverter-protocol.md)"),
    _k("INTERNAL_ERROR", E, "the journal (journalctl -u v2x-controller) for the traceback"),
    # Faults the inverter reports in its FaultWord (hal/protocols/inverter.dbc, INV_FAULT).
    _k("INV_DC_OVERVOLTAGE", E, "the EV's voltage limits and the inverter's DC voltage sensing"),
    _k("INV_DC_UNDERVOLTAGE", S, "the DC contactors and fuses between the EV and the inverter"),
    _k("INV_DC_OVERCURRENT", E, "the DC current limits sent to the inverter and its DC wiring"),
    _k("INV_AC_OVERVOLTAGE", S, "the grid voltage at the inverter terminals (utility or wiring)"),
    _k("INV_AC_UNDERVOLTAGE", S, "the grid voltage at the inverter terminals (utility or wiring)"),
    _k("INV_AC_FREQUENCY", S, "the grid frequency; the inverter's frequency trip settings"),
    _k("INV_OVERTEMPERATURE", S, "the inverter's fans, air filters and ambient temperature"),
    _k("INV_ISLANDING", E, "the utility supply: the inverter detected an island"),
    _k("INV_COMMAND_TIMEOUT", E, "the inverter CAN link and the controller's loop (journal)"),
    _k("INV_COMMAND_INVALID", E, "the inverter protocol version and the command values"),
    _k("INV_INSULATION", E, "DC insulation: do not re-energise before an insulation test"),
    _k("INV_HARDWARE", E, "the inverter's power stage (gate driver, desaturation): service"),
)}

# INV_FAULT FaultWord bit -> fault code (bits 12..15 are reserved).
INVERTER_FAULT_BITS: tuple[str, ...] = (
    "INV_DC_OVERVOLTAGE", "INV_DC_UNDERVOLTAGE", "INV_DC_OVERCURRENT", "INV_AC_OVERVOLTAGE",
    "INV_AC_UNDERVOLTAGE", "INV_AC_FREQUENCY", "INV_OVERTEMPERATURE", "INV_ISLANDING",
    "INV_COMMAND_TIMEOUT", "INV_COMMAND_INVALID", "INV_INSULATION", "INV_HARDWARE",
)


def fault(code: str, t: float, wall_time: float, detail: str) -> Fault:
    """Make an occurrence of a catalogued fault (an unknown code is a programming error)."""
    return Fault(CATALOGUE[code], t, wall_time, detail)
