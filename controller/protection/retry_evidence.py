"""Evidence that a retryable fault's cause is gone: an automatic retry acts only on it.

A monitor that is quiet is not evidence: several monitors only look while energised (the
inverter link's age) or cannot see their cause at all while de-energised (a precharge). So each
fault the catalogue marks ``retry`` (``controller/faults.py``) names here what must be observed,
in this tick's snapshot and protection result, before the controller may clear it by itself
(``FaultManager.retry_due``). A code without an entry is never retried automatically.

What "gone" means, per fault:

- METER_LOST: a fresh meter reading (the ADE7953 answers again).
- ADC_LOST: every required ADC channel converted within ``protection.sensor_max_age_s``.
- SENSOR_STALE: the meter and every required ADC channel fresh, and every NTC read.
- INVERTER_COMM_LOST: a valid inverter status within ``protection.inverter_status_timeout_s``
  and its CAN controller error-active (the link is heard, whether energised or not).
- PRECHARGE_TIMEOUT: the EV is plugged in and reporting and its battery voltage is measured at
  the inlet (above ``sequence.dc_dead_below_v``): there is a source to precharge from.
- OVERTEMPERATURE: every NTC read and all below their derating start (full power allowed).
- LOOP_OVERRUN: the tick before took no longer than ``safety.loop.max_tick_s``.
- INV_AC_OVERVOLTAGE, INV_AC_UNDERVOLTAGE, INV_AC_FREQUENCY: the utility back inside the
  enter-service window by the controller's own meter, and the inverter talking without a fault.
- INV_OVERTEMPERATURE: the inverter talking without a fault, its heatsink below the inverter
  derating start (``safety.temperature.inverter_derate_c``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from controller.config.model import Config
from controller.protection.protection import ProtectionResult
from controller.protection.sensors import ADC_CHANNELS_REQUIRED
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode

ERROR_ACTIVE = "error-active"


@dataclass(frozen=True, slots=True)
class Observed:
    """One tick's view for the evidence checks."""

    snap: Snapshot
    result: ProtectionResult
    config: Config
    loop_healthy: bool


def _meter_fresh(o: Observed) -> bool:
    meter = o.snap.meter
    return (o.snap.meter_error is None and meter is not None
            and o.snap.t - meter.t <= o.config.protection.sensor_max_age_s)


def _adc_fresh(o: Observed) -> bool:
    age = o.config.protection.sensor_max_age_s
    return o.snap.adc_error is None and all(
        o.snap.analog_value(name, age) is not None for name in ADC_CHANNELS_REQUIRED)


def _ntcs_read(o: Observed) -> bool:
    return all(name in o.result.temperatures_c for name in o.snap.temperatures)


def _inverter_talking(o: Observed) -> bool:
    return (o.snap.inverter is not None and o.snap.inverter_bus == ERROR_ACTIVE
            and o.snap.inverter_age_s <= o.config.protection.inverter_status_timeout_s)


def _inverter_healthy(o: Observed) -> bool:
    return _inverter_talking(o) and o.snap.inverter is not None and (
        o.snap.inverter.fault_word == 0)


def _ev_source_present(o: Observed) -> bool:
    inlet = o.snap.analog_value("ev_inlet_v", o.config.protection.sensor_max_age_s)
    return (o.snap.ev is not None and o.snap.inputs.get("ev_present", False)
            and inlet is not None and inlet > o.config.sequence.dc_dead_below_v)


def _grid_normal(o: Observed) -> bool:
    return o.result.grid.ok or o.result.grid.in_window


def _inverter_cool(o: Observed) -> bool:
    inv = o.snap.inverter
    return (_inverter_healthy(o) and inv is not None
            and inv.temperature_c < o.config.safety.temperature.inverter_derate_c)


EVIDENCE: dict[str, Callable[[Observed], bool]] = {
    FaultCode.METER_LOST: _meter_fresh,
    FaultCode.ADC_LOST: _adc_fresh,
    FaultCode.SENSOR_STALE: lambda o: _meter_fresh(o) and _adc_fresh(o) and _ntcs_read(o),
    FaultCode.INVERTER_COMM_LOST: _inverter_talking,
    FaultCode.PRECHARGE_TIMEOUT: _ev_source_present,
    FaultCode.OVERTEMPERATURE: lambda o: _ntcs_read(o) and o.result.power_fraction >= 1.0,
    FaultCode.LOOP_OVERRUN: lambda o: o.loop_healthy,
    FaultCode.INV_AC_OVERVOLTAGE: lambda o: _grid_normal(o) and _inverter_healthy(o),
    FaultCode.INV_AC_UNDERVOLTAGE: lambda o: _grid_normal(o) and _inverter_healthy(o),
    FaultCode.INV_AC_FREQUENCY: lambda o: _grid_normal(o) and _inverter_healthy(o),
    FaultCode.INV_OVERTEMPERATURE: _inverter_cool,
}


def cause_gone(code: str, observed: Observed) -> bool:
    """Whether this tick shows ``code``'s cause gone (no entry: never, no automatic retry)."""
    check = EVIDENCE.get(code)
    return check is not None and check(observed)
