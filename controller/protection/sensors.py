"""Sensor and link health: a meter or ADC that stops answering, stale values, silent inverter.

Every input has an age limit: meter readings and ADC channels ``protection.sensor_max_age_s``,
the inverter's status ``protection.inverter_status_timeout_s`` while energised, temperatures in
``controller/protection/interlocks/temperature.py``; the EV's report goes stale by itself
(``EvLink``) and the mode machine stops on it. Stale is unsafe.
"""

from __future__ import annotations

from controller.config.model import ProtectionSettings
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot

ADC_CHANNELS_REQUIRED = ("dc_link_v", "ev_inlet_v", "dc_current_a")


def check_sensors(snap: Snapshot, settings: ProtectionSettings, energised: bool,
                  started_at: float) -> list[Trip]:
    """Trips for lost or stale sensors; an energised charger also needs a live inverter link.

    ``started_at`` gives the ADC time for its first round of conversions before staleness counts.
    """
    trips: list[Trip] = []
    if snap.meter_error is not None:
        trips.append(Trip("METER_LOST", snap.meter_error))
    elif snap.meter is not None and snap.t - snap.meter.t > settings.sensor_max_age_s:
        age = snap.t - snap.meter.t
        trips.append(Trip("SENSOR_STALE", f"meter reading {age:.2f} s old", age,
                          settings.sensor_max_age_s))
    if snap.adc_error is not None:
        trips.append(Trip("ADC_LOST", snap.adc_error))
    if snap.t - started_at > settings.sensor_max_age_s:
        for name in ADC_CHANNELS_REQUIRED:
            if snap.analog_value(name, settings.sensor_max_age_s) is None:
                trips.append(Trip("SENSOR_STALE", f"{name} older than "
                                  f"{settings.sensor_max_age_s} s"))
    if energised and snap.inverter_bus == "bus-off":
        trips.append(Trip("INVERTER_COMM_LOST", "the inverter CAN bus is bus-off (wiring, "
                          "termination or a peer transmitting errors)"))
    elif energised and snap.inverter_age_s > settings.inverter_status_timeout_s:
        trips.append(Trip("INVERTER_COMM_LOST",
                          f"no valid inverter status for {snap.inverter_age_s:.3f} s "
                          f"(limit {settings.inverter_status_timeout_s} s)",
                          snap.inverter_age_s, settings.inverter_status_timeout_s))
    return trips
