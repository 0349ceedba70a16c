"""The controller's words: contactor names, request modes and fault codes, each defined once.

A low module with no imports from the project, so every layer of ``controller/`` may use it.
The members are ``StrEnum``s whose values are the strings the config file, the event log, the
console, the scenario format and the JSON reports already use: a member compares equal to its
string (``Contactor.DC == "dc"``), hashes like it and formats as it, so code that still passes
plain strings keeps working while new code names the member and lets mypy check the spelling.

``hal/`` may not import the controller (tests/test_layering.py), so the wiring keeps its own
tuple of contactor names (``hal.settings.CONTACTOR_NAMES``); tests/test_vocabulary.py holds the
two equal.

Per-tick code binds the names it looks up once, at import, as plain strings
(``_GRID = Contactor.GRID.value``): an enum attribute costs about 0.2 us to read, and a dict
keyed by plain strings (the snapshot's) finds an enum key at half the speed of a string.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Final


@unique
class Contactor(StrEnum):
    """The contactors, by the name of their wiring section (``[hal.gpio.contactors.*]``)."""

    GRID = "grid"  # K_GRID: the normally-closed grid transfer contactor
    AC = "ac"  # K_AC: the inverter's AC contactor towards the home panel
    V2L = "v2l"  # K_V2L: the V2L outlet
    DC = "dc"  # K_DC+ and K_DC-: one coil for both DC poles
    PRECHARGE = "precharge"  # K_PRE: in series with the precharge resistor


# The EV side of the inverter: opened and proven open (welding check, insulation test) together.
DC_SIDE: Final[tuple[Contactor, ...]] = (Contactor.DC, Contactor.PRECHARGE)
# The contactors that carry the charger's power (the precharge path carries only the
# precharge current; K_GRID is the home's transfer contactor, closed when de-energised).
POWER_CONTACTORS: Final[tuple[Contactor, ...]] = (Contactor.DC, Contactor.AC, Contactor.V2L)


@unique
class RequestMode(StrEnum):
    """What an operator, a schedule or the grid operator may ask of the charger."""

    IDLE = "idle"
    CHARGE = "charge"
    V2H = "v2h"
    V2G = "v2g"
    V2L = "v2l"


@unique
class FaultCode(StrEnum):
    """Every fault the catalogue knows (``controller/faults.py`` says what each one means)."""

    ESTOP = "ESTOP"
    DOOR_OPEN = "DOOR_OPEN"
    GROUND_FAULT = "GROUND_FAULT"
    INSULATION_FAULT = "INSULATION_FAULT"
    METER_LOST = "METER_LOST"
    ADC_LOST = "ADC_LOST"
    SENSOR_STALE = "SENSOR_STALE"
    INVERTER_COMM_LOST = "INVERTER_COMM_LOST"
    DC_OVERVOLTAGE = "DC_OVERVOLTAGE"
    DC_OVERCURRENT = "DC_OVERCURRENT"
    CONTACTOR_FAIL_CLOSE = "CONTACTOR_FAIL_CLOSE"
    CONTACTOR_FAIL_OPEN = "CONTACTOR_FAIL_OPEN"
    CONTACTOR_WELDED = "CONTACTOR_WELDED"
    CONTACTOR_FEEDBACK = "CONTACTOR_FEEDBACK"
    PRECHARGE_TIMEOUT = "PRECHARGE_TIMEOUT"
    OVERTEMPERATURE = "OVERTEMPERATURE"
    TEMP_SENSOR_FAULT = "TEMP_SENSOR_FAULT"
    TEMP_DERATING = "TEMP_DERATING"
    POWER_IMPLAUSIBLE = "POWER_IMPLAUSIBLE"
    MEASUREMENT_DISAGREE = "MEASUREMENT_DISAGREE"
    LOOP_OVERRUN = "LOOP_OVERRUN"
    SELFTEST = "SELFTEST"
    INVERTER_SETTINGS = "INVERTER_SETTINGS"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    GRID_CEASE_FAILED = "GRID_CEASE_FAILED"
    INV_DC_OVERVOLTAGE = "INV_DC_OVERVOLTAGE"
    INV_DC_UNDERVOLTAGE = "INV_DC_UNDERVOLTAGE"
    INV_DC_OVERCURRENT = "INV_DC_OVERCURRENT"
    INV_AC_OVERVOLTAGE = "INV_AC_OVERVOLTAGE"
    INV_AC_UNDERVOLTAGE = "INV_AC_UNDERVOLTAGE"
    INV_AC_FREQUENCY = "INV_AC_FREQUENCY"
    INV_OVERTEMPERATURE = "INV_OVERTEMPERATURE"
    INV_ISLANDING = "INV_ISLANDING"
    INV_COMMAND_TIMEOUT = "INV_COMMAND_TIMEOUT"
    INV_COMMAND_INVALID = "INV_COMMAND_INVALID"
    INV_INSULATION = "INV_INSULATION"
    INV_HARDWARE = "INV_HARDWARE"
    METER_IMPLAUSIBLE = "METER_IMPLAUSIBLE"
    GRID_ISOLATION_FAILED = "GRID_ISOLATION_FAILED"
    INVERTER_STATUS_IMPLAUSIBLE = "INVERTER_STATUS_IMPLAUSIBLE"
    DC_NOT_ISOLATED = "DC_NOT_ISOLATED"
    STORE_WRITE_FAILED = "STORE_WRITE_FAILED"
    DC_LINK_ALERT = "DC_LINK_ALERT"
    # The EV session (issue 19, controller/ev/chademo/phases.py).
    EV_BATTERY_OVERVOLTAGE = "EV_BATTERY_OVERVOLTAGE"
    EV_BATTERY_UNDERVOLTAGE = "EV_BATTERY_UNDERVOLTAGE"
    EV_CURRENT_DEVIATION_REPORTED = "EV_CURRENT_DEVIATION_REPORTED"
    EV_BATTERY_TEMPERATURE = "EV_BATTERY_TEMPERATURE"
    EV_VOLTAGE_DEVIATION_REPORTED = "EV_VOLTAGE_DEVIATION_REPORTED"
    EV_SYSTEM_FAULT = "EV_SYSTEM_FAULT"
    EV_NOT_IN_PARK = "EV_NOT_IN_PARK"
    EV_COMM_LOST = "EV_COMM_LOST"
    EV_PERMISSION_TIMEOUT = "EV_PERMISSION_TIMEOUT"
    EV_LOCK_TIMEOUT = "EV_LOCK_TIMEOUT"
    EV_CONTACTOR_TIMEOUT = "EV_CONTACTOR_TIMEOUT"
    EV_CONTACTOR_OPEN_TIMEOUT = "EV_CONTACTOR_OPEN_TIMEOUT"
    EV_OUTPUT_LIVE = "EV_OUTPUT_LIVE"
    EV_CURRENT_DEVIATION = "EV_CURRENT_DEVIATION"
    EV_VOLTAGE_WINDOW = "EV_VOLTAGE_WINDOW"
    EV_CONNECTOR_UNLOCKED = "EV_CONNECTOR_UNLOCKED"
    EV_PROXIMITY_LOST = "EV_PROXIMITY_LOST"
    EV_REQUEST_TIMEOUT = "EV_REQUEST_TIMEOUT"
    EXPANDER_LOST = "EXPANDER_LOST"  # the MCP23017 carrying the EV sequence signals
