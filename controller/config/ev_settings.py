"""The ``[ev]`` config section: the EV link's protocol, what the charger offers, the timings.

Every timing's source is in ``docs/ev-link.md`` ("Timings"); the defaults are the CHAdeMO values
known from open implementations (``../shared/reference/chademo.md``) and the recorded sessions.
The sequence signals are wiring: the MCP23017 expander, ``[hal.i2c.expander]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.config_fields import setting

EV_PROTOCOLS = ("chademo",)


@dataclass(frozen=True)
class EvSettings:
    """The charger side of the EV session (``controller/ev/``)."""

    protocol: str = setting("chademo", "the EV protocol on the inlet", choices=EV_PROTOCOLS)
    protocol_number: int = setting(
        2, "CHAdeMO control protocol number the charger sends (2 = 1.0.x; 3 = 2.0: 0x118 is "
        "sent too)", min=1, max=3)
    available_voltage_v: float = setting(
        500.0, "available output voltage (0x108): a vehicle whose maximum battery voltage is "
        "above it is battery incompatible", unit="V", min=50.0, max=1000.0)
    available_current_a: float = setting(
        30.0, "available output current (0x108)", unit="A", min=1.0, max=255.0)
    discharge: bool = setting(
        True, "offer discharge (V2H): 0x208/0x209 and 109.4 once a discharge-compatible "
        "vehicle has reported its limits")
    discharge_current_a: float = setting(
        30.0, "available input (discharge) current (0x208)", unit="A", min=1.0, max=255.0)
    lower_threshold_voltage_v: float = setting(
        250.0, "the charger's own lower threshold voltage for discharge (0x208): it stops "
        "discharging at the higher of this and the vehicle's minimum discharge voltage",
        unit="V", min=50.0, max=1000.0)
    soc_on_plug: bool = setting(
        True, "on plug-in, with no request: a parameter exchange only (d1 on, nothing locked or "
        "closed, d1 off once the vehicle's limits settle) to read its SoC for the status and the "
        "planner; a request during it carries on as a session")
    parameters_timeout_s: float = setting(
        8.0, "after d1: the vehicle's valid parameters and its charge permission (switch k and "
        "102.5.0) within this (EV_PERMISSION_TIMEOUT)", unit="s", min=1.0, max=60.0)
    lock_timeout_s: float = setting(
        2.0, "the lock feedback must confirm the connector locked within this "
        "(EV_LOCK_TIMEOUT)", unit="s", min=0.2, max=10.0)
    contactor_close_timeout_s: float = setting(
        4.0, "after d2: the vehicle's contactors closed (102.5.3 = 0) within this "
        "(EV_CONTACTOR_TIMEOUT)", unit="s", min=0.5, max=20.0)
    request_timeout_s: float = setting(
        4.0, "after the vehicle's contactors closed: its first current request (charging) "
        "within this, else the session ends (EV_REQUEST_TIMEOUT)", unit="s", min=0.5,
        max=30.0)
    frames_timeout_s: float = setting(
        1.0, "the vehicle's frames stopping for this ends the session (EV_COMM_LOST)",
        unit="s", min=0.2, max=5.0)
    stop_current_a: float = setting(
        5.0, "after a stop the output current falls below this before the vehicle opens its "
        "contactors", unit="A", min=0.5, max=20.0)
    contactor_open_timeout_s: float = setting(
        10.0, "after the current fell: the vehicle's contactors open (102.5.3 = 1) within "
        "this (EV_CONTACTOR_OPEN_TIMEOUT)", unit="s", min=1.0, max=30.0)
    unlock_below_v: float = setting(
        10.0, "the connector unlocks only with the output below this", unit="V",
        min=1.0, max=60.0)
    output_discharge_timeout_s: float = setting(
        5.0, "after the vehicle opened its contactors: the output below unlock_below_v within "
        "this, else the connector stays locked (EV_OUTPUT_LIVE)", unit="s", min=0.5, max=60.0)
    current_deviation_a: float = setting(
        10.0, "output current above the vehicle's request or limit by this ...", unit="A",
        min=1.0, max=50.0)
    current_deviation_s: float = setting(
        5.0, "... for this long ends the session (EV_CURRENT_DEVIATION)", unit="s",
        min=0.5, max=30.0)
