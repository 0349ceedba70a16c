"""The input stage: read every device once and freeze the result into a :class:`Snapshot`."""

from __future__ import annotations

from controller.links.bus_state import BusState
from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync
from controller.measurement.calibration import CalibrationSet
from controller.values.snapshot import CONTACTOR_VIEWS, Snapshot
from hal.errors import V2xError
from hal.interfaces.hardware import Hardware
from hal.interfaces.meter import AcMeterReading
from hal.settings import EXPANDER_INPUTS

BUS_STATE_NAMES = {state: state.value for state in BusState}  # (an enum's value is 2 calls)


def read_snapshot(hw: Hardware, inverter: InverterLink, ev: EvLink, settings: SettingsSync,
                  now: float, calibration: CalibrationSet | None = None) -> Snapshot:
    """Never raises for a device problem: errors become fields that protection trips on.

    ``calibration`` (``controller/measurement/calibration.py``) corrects the meter reading and
    the ADC samples, so everything downstream sees calibrated values.
    """
    # The GPIO inputs first: the ADC poll below releases the ADS1115's latched ALERT (dc_alert;
    # the input also counts an assertion a poll released since its last read, which the Pi's
    # reader thread may do: hal/gpio_devices.py, catch_pulses).
    inputs = {name: i.read() for name, i in hw.inputs.items()}
    # The meter read, the ADC polls and the GPIO expander's one read (hal/i2c_reader.py: inline
    # in the simulator, the newest finished background cycle on a Pi); a silent NTC converter's
    # samples just age.
    cycle = hw.i2c.collect()
    meter: AcMeterReading | None = cycle.value("meter")
    meter_error = cycle.error("meter")
    adc_error = cycle.error("adc")
    expander_error = cycle.error("expander")
    # The expander's inputs (the EV's permission, the lock feedback) as this cycle read them.
    inputs |= {name: hw.inputs[name].read() for name in EXPANDER_INPUTS if name in hw.inputs}
    analog = {name: ch.latest() for name, ch in hw.adc.channels.items()}
    if calibration is not None and len(calibration):
        meter = calibration.correct_meter(meter) if meter is not None else None
        analog = {name: calibration.correct_sample(name, s) for name, s in analog.items()}
    inverter.poll(now)  # hands settings read-back frames to ``settings``
    ev.poll(now)
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
        inputs=inputs,
        inverter=inverter.status,
        inverter_age_s=inverter.status_age(now),
        ev=ev.report(now),
        inverter_settings_problem=settings.problem(now),
        inverter_bus=BUS_STATE_NAMES[inverter.bus.state],
        temperatures=temperatures,
        expander_error=expander_error,
    )
