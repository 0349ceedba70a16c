"""Sensor and link health: a meter, ADC or GPIO expander that stops answering, stale values,
silent inverter.

Every input has an age limit: meter readings and ADC channels ``protection.sensor_max_age_s``,
the inverter's status ``protection.inverter_status_timeout_s`` while energised, temperatures in
``controller/protection/interlocks/temperature.py``; the EV's report goes stale by itself
(``EvLink``) and the mode machine stops on it. Stale is unsafe.
"""

from __future__ import annotations

from controller.config.model import ProtectionSettings
from controller.protection.monitor import QUIET, Finding, ProtectionInput
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode

ADC_CHANNELS_REQUIRED = ("dc_link_v", "ev_inlet_v", "dc_current_a")
BUS_OFF = "bus-off"


class SensorMonitor:
    """Trips for lost or stale sensors; an energised charger also needs a live inverter link.
    ``started_at`` gives the ADC time for its first round of conversions before staleness counts.
    """

    def __init__(self, settings: ProtectionSettings, started_at: float) -> None:
        self._max_age = settings.sensor_max_age_s
        self._inverter_timeout = settings.inverter_status_timeout_s
        self._started_at = started_at

    def update(self, seen: ProtectionInput) -> Finding:
        snap, energised = seen.snap, seen.energised
        max_age, timeout = self._max_age, self._inverter_timeout
        trips: list[Trip] = []
        if snap.meter_error is not None:
            trips.append(Trip(FaultCode.METER_LOST, snap.meter_error))
        elif snap.meter is not None and snap.t - snap.meter.t > max_age:
            age = snap.t - snap.meter.t
            trips.append(Trip(FaultCode.SENSOR_STALE, f"meter reading {age:.2f} s old", age,
                              max_age))
        if snap.adc_error is not None:
            trips.append(Trip(FaultCode.ADC_LOST, snap.adc_error))
        if snap.expander_error is not None:  # the EV sequence signals' MCP23017 (issue 19)
            trips.append(Trip(FaultCode.EXPANDER_LOST, snap.expander_error))
        if snap.t - self._started_at > max_age:
            for name in ADC_CHANNELS_REQUIRED:
                if snap.analog_value(name, max_age) is None:
                    trips.append(Trip(FaultCode.SENSOR_STALE,
                                      f"{name} older than {max_age} s"))
        if energised and snap.inverter_bus == BUS_OFF:
            trips.append(Trip(FaultCode.INVERTER_COMM_LOST, "the inverter CAN bus is bus-off "
                              "(wiring, termination or a peer transmitting errors)"))
        elif energised and snap.inverter_age_s > timeout:
            trips.append(Trip(FaultCode.INVERTER_COMM_LOST,
                              f"no valid inverter status for {snap.inverter_age_s:.3f} s "
                              f"(limit {timeout} s)", snap.inverter_age_s, timeout))
        return Finding(tuple(trips)) if trips else QUIET
