"""The input stage: read every device once and freeze the result into a :class:`Snapshot`."""

from __future__ import annotations

import contextlib

from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync
from controller.measurement.calibration import CalibrationSet
from controller.values.snapshot import CONTACTOR_VIEWS, Snapshot
from hal.errors import V2xError
from hal.interfaces.hardware import Hardware
from hal.interfaces.meter import AcMeterReading


def read_snapshot(hw: Hardware, inverter: InverterLink, ev: EvLink, settings: SettingsSync,
                  now: float, calibration: CalibrationSet | None = None) -> Snapshot:
    """Never raises for a device problem: errors become fields that protection trips on.

    ``calibration`` (``controller/measurement/calibration.py``) corrects the meter reading and
    the ADC samples, so everything downstream sees calibrated values.
    """
    meter: AcMeterReading | None = None
    meter_error: str | None = None
    try:
        meter = hw.meter.read()
    except V2xError as err:
        meter_error = str(err)
    adc_error: str | None = None
    expander_error: str | None = None
    if hw.expander is not None:
        try:
            hw.expander.poll()  # the MCP23017's one read per tick (issue 19: the EV signals)
        except V2xError as err:
            expander_error = str(err)
    try:
        hw.adc.poll()
    except V2xError as err:
        adc_error = str(err)
    analog = {name: ch.latest() for name, ch in hw.adc.channels.items()}
    if calibration is not None and len(calibration):
        meter = calibration.correct_meter(meter) if meter is not None else None
        analog = {name: calibration.correct_sample(name, s) for name, s in analog.items()}
    inverter.poll(now)  # hands settings read-back frames to ``settings``
    ev.poll(now)
    if hw.thermal is not None:
        with contextlib.suppress(V2xError):  # a silent converter: its samples age, reads fail
            hw.thermal.poll()
    temperatures: dict[str, float | None] = {}
    for name, sensor in hw.temperatures.items():
        try:
            temperatures[name] = sensor.read()
        except V2xError:
            temperatures[name] = None
    return Snapshot(
        t=now,
        meter=meter,
        meter_error=meter_error,
        analog=analog,
        adc_error=adc_error,
        contactors={name: CONTACTOR_VIEWS[(c.commanded_closed, c.feedback_closed)]
                    for name, c in hw.contactors.items()},
        inputs={name: i.read() for name, i in hw.inputs.items()},
        inverter=inverter.status,
        inverter_age_s=inverter.status_age(now),
        ev=ev.report(now),
        inverter_settings_problem=settings.problem(now),
        inverter_bus=inverter.bus.state.value,
        temperatures=temperatures,
        expander_error=expander_error,
    )
