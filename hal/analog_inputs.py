"""Every converter on the I2C bus but the meter: the DC-side ADS1115, the optional INA228, and
the second ADS1115 that reads the NTC temperatures.

Both backends build them here, so the simulator runs exactly what a Pi runs (its chip models
answer at the same addresses). All converters are polled as one ADC device every tick (each
ADS1115 converts one channel per tick); each NTC becomes a divider-ratio sensor that the
controller turns into degrees, recognising an open or shorted NTC
(``controller/protection/interlocks/ntc.py``, ``temperature.py``). The NTC converter is polled
on its own (``Hardware.thermal``): when it stops answering, the temperatures go stale (SENSOR_STALE)
without taking the DC measurements with them. A chip that is missing at start-up raises, naming
bus, address and chip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hal.drivers.adc_group import AdcGroup
from hal.drivers.ads1115 import Ads1115, Ads1115Channel, DividerRatio
from hal.drivers.ina228 import Ina228
from hal.i2c import I2cBus
from hal.interfaces.adc import AdcDevice
from hal.interfaces.temperature import TemperatureSensor
from hal.settings import NTC_SENSORS, I2cWiring


@dataclass(frozen=True)
class AnalogInputs:
    adc: AdcDevice  # the DC side (and the INA228): polled every tick
    thermal: AdcDevice | None  # the NTC converter, polled every tick on its own
    temperatures: dict[str, TemperatureSensor]


def open_analog(bus: I2cBus, i2c: I2cWiring, now: Callable[[], float]) -> AnalogInputs:
    """Probe and open every converter of ``i2c`` (the meter aside)."""
    alert_v = i2c.adc.dc_link_alert_v
    adc: AdcDevice = Ads1115(bus, i2c.adc, now,
                             guard=("dc_link_v", alert_v) if alert_v > 0.0 else None)
    if i2c.ina228.enabled:
        adc = AdcGroup([adc, Ina228(bus, i2c.ina228, now)])
    ntc = i2c.ntc_adc
    if not ntc.enabled:
        return AnalogInputs(adc, None, {})
    thermal = Ads1115(bus, ntc, now, stale_after_s=ntc.max_sample_age_s)
    sensors: dict[str, TemperatureSensor] = {}
    for sensor, channel_name in NTC_SENSORS.items():
        channel = thermal.channels[channel_name]
        assert isinstance(channel, Ads1115Channel)
        sensors[sensor] = DividerRatio(channel, ntc.reference_v, ntc.max_sample_age_s)
    return AnalogInputs(adc, thermal, sensors)
