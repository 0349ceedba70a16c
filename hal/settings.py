"""The ``[hal]`` config section: which backend, and how the board is wired.

These frozen dataclasses are part of the controller's config (``controller.config``) but live here
so that backends can be built from them without importing the application. Defaults describe the
reference build of ``hw/README.md``; pins are BCM numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hal.config_fields import section, setting

BACKENDS = ("sim", "pi")
PULLS = ("up", "down", "none")
ADS1115_FSR_V = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256)
ADS1115_RATES_SPS = (8, 16, 32, 64, 128, 250, 475, 860)
CONTACTOR_NAMES = ("grid", "ac", "v2l", "dc", "precharge")
INPUT_NAMES = ("estop", "door", "ev_present", "rcm_ok", "imd_ok", "dc_alert")
# Inputs driven by a chip's latched alert that an I2C read releases: an assertion since the
# last read counts even if released since (hal/gpio_devices.py, catch_pulses).
PULSE_INPUTS = frozenset({"dc_alert"})
ADC_CHANNEL_NAMES = ("dc_link_v", "ev_inlet_v", "dc_current_a")
GPIO_MAX_BCM = 27


def _pin(default: int | None, doc: str) -> Any:
    return setting(default, doc, min=2, max=GPIO_MAX_BCM)


@dataclass(frozen=True)
class ContactorWiring:
    coil_pin: int = _pin(None, "BCM pin driving the coil driver input (high = coil energised)")
    aux_pin: int | None = _pin(None, "BCM pin reading the auxiliary contact; omit if none")
    normally_closed: bool = setting(False, "main contacts are closed while the coil is dropped")
    aux_closed_high: bool = setting(True, "the aux input reads high when the main contacts close")


def _contactor(coil: int, aux: int, nc: bool = False) -> ContactorWiring:
    return ContactorWiring(coil_pin=coil, aux_pin=aux, normally_closed=nc)


@dataclass(frozen=True)
class ContactorsWiring:
    grid: ContactorWiring = section(
        lambda: _contactor(12, 5, nc=True),
        "K_GRID, the normally-closed grid transfer contactor between utility and home panel",
    )
    ac: ContactorWiring = section(lambda: _contactor(13, 6), "K_AC, inverter AC contactor")
    v2l: ContactorWiring = section(lambda: _contactor(16, 20), "K_V2L, the V2L outlet contactor")
    dc: ContactorWiring = section(lambda: _contactor(19, 21), "K_DC, the DC contactor pair")
    precharge: ContactorWiring = section(
        lambda: _contactor(26, 27), "K_PRE, precharge contactor in series with its resistor"
    )


@dataclass(frozen=True)
class InputWiring:
    pin: int = _pin(None, "BCM pin")
    active_high: bool = setting(True, "the input is active (true) when the pin reads high")
    pull: str = setting("none", "internal pull resistor; fit external ones on long runs",
                        choices=PULLS)


@dataclass(frozen=True)
class InputsWiring:
    estop: InputWiring = section(
        lambda: InputWiring(pin=4),
        "E-stop loop sense: active while the loop is closed (healthy)",
    )
    door: InputWiring = section(
        lambda: InputWiring(pin=24), "enclosure door switch: active while the door is closed"
    )
    ev_present: InputWiring = section(
        lambda: InputWiring(pin=18), "vehicle connector proximity: active while an EV is plugged"
    )
    rcm_ok: InputWiring = section(
        lambda: InputWiring(pin=14),
        "residual current monitor healthy: active while no ground fault (RDC-DD alarm relay, NC; "
        "BCM 14 is the UART TX, so the console then uses a USB gadget port)",
    )
    imd_ok: InputWiring = section(
        lambda: InputWiring(pin=15),
        "insulation monitor healthy: active while the DC insulation is good (IMD alarm 2, NC; "
        "BCM 15 is the UART RX)",
    )
    dc_alert: InputWiring = section(
        lambda: InputWiring(pin=17, active_high=False, pull="up"),
        "the DC alert line (open drain, active low; one 10 kohm pull-up to 3.3 V): the DC-side "
        "ADS1115's ALERT/RDY (its window comparator holds the DC link above "
        "hal.i2c.adc.dc_link_alert_v), wire-ORed with the INA228's ALERT when one is fitted "
        "(its latched BOVL/SOVL/SUVL limits: DC over-voltage or over-current)",
    )


@dataclass(frozen=True)
class WatchdogWiring:
    kick_pin: int = _pin(22, "BCM pin toggled once per healthy control tick; the external "
                         "watchdog (retriggerable monostable, K_WD relay) drops the contactor "
                         "coil supply when the edges stop")


HELD_ON_SAFE_OUTPUTS = frozenset({"ev_lock"})  # never dropped by de_energise_all


@dataclass(frozen=True)
class GpioWiring:
    contactors: ContactorsWiring = section(ContactorsWiring, "contactor coils and aux contacts")
    inputs: InputsWiring = section(InputsWiring, "digital inputs")
    watchdog: WatchdogWiring = section(WatchdogWiring, "the external hardware watchdog's input")


@dataclass(frozen=True)
class MeterWiring:
    address: int = setting(0x38, "ADE7953 7-bit I2C address (fixed by the chip)", min=0x08,
                           max=0x77)
    voltage_counts_per_v: float = setting(
        26000.0, "VRMS register counts per volt (board voltage divider)", unit="counts/V",
        min=1.0, max=1e7)
    current_counts_per_a: float = setting(
        100000.0, "IRMSA/IRMSB counts per ampere (CT and burden)", unit="counts/A",
        min=1.0, max=1e7)
    power_counts_per_w: float = setting(
        100.0, "AWATT/BWATT/AVAR counts per watt (or var)", unit="counts/W", min=0.001, max=1e6)
    sag_level_v: float = setting(
        120.0, "the meter latches a sag when the RMS voltage stays below this (SAGLVL)",
        unit="V", min=0.0, max=400.0)
    sag_half_cycles: int = setting(4, "half cycles below sag_level_v before a sag (SAGCYC)",
                                   min=1, max=255)
    overvoltage_peak_v: float = setting(
        410.0, "the meter latches an over-voltage when the voltage peak exceeds this (OVLVL)",
        unit="V", min=1.0, max=1000.0)


@dataclass(frozen=True)
class AdcChannelWiring:
    ain: int = setting(0, "ADS1115 input, measured against GND", min=0, max=3)
    fsr_v: float = setting(4.096, "PGA full-scale range", unit="V", choices=ADS1115_FSR_V)
    scale: float = setting(1.0, "engineering units per volt at the pin, after the offset",
                           min=-1e6, max=1e6)
    offset_v: float = setting(0.0, "pin voltage that reads as zero", unit="V", min=-6.144,
                              max=6.144)


@dataclass(frozen=True)
class AdcChannelsWiring:
    dc_link_v: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=0, fsr_v=4.096, scale=200.0),
        "DC link voltage (inverter side of K_DC) through a 200:1 isolated divider, in V",
    )
    ev_inlet_v: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=1, fsr_v=4.096, scale=200.0),
        "EV inlet voltage (vehicle side of K_DC) through a 200:1 isolated divider, in V",
    )
    dc_current_a: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=2, fsr_v=4.096, scale=100.0, offset_v=1.65),
        "DC current (positive = into the EV) from a 3.3 V ratiometric hall sensor, 10 mV/A "
        "around 1.65 V (+-125 A stays inside the ADS1115's 3.3 V supply), in A",
    )


@dataclass(frozen=True)
class AdcWiring:
    address: int = setting(0x48, "ADS1115 7-bit I2C address (ADDR pin to GND)", min=0x48,
                           max=0x4B)
    data_rate_sps: int = setting(128, "conversion rate", unit="SPS", choices=ADS1115_RATES_SPS)
    channels: AdcChannelsWiring = section(AdcChannelsWiring, "the converted channels")
    dc_link_alert_v: float = setting(
        450.0, "the chip's window comparator asserts ALERT (BCM 17, DC_LINK_ALERT) when the DC "
        "link exceeds this; the DC link is then converted every other tick, continuously with "
        "the comparator on (hal/drivers/ads1115.py); set it above every EV's maximum battery "
        "voltage plus protection.dc_overvoltage_margin_v, at or below the DC stage's rating; "
        "0 turns the comparator off (a plain round-robin scan)", unit="V", min=0.0, max=2000.0)


@dataclass(frozen=True)
class NtcChannelsWiring:
    """Each NTC to GND with a pull-up to ``reference_v``; the channel reads the divider's volts
    (the controller converts the ratio to degrees: ``controller/protection/interlocks/ntc.py``)."""

    ntc_inverter: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=0, fsr_v=4.096), "NTC on the inverter heatsink, in V")
    ntc_contactors: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=1, fsr_v=4.096), "NTC on the DC contactors' busbar, in V")
    ntc_inlet: AdcChannelWiring = section(
        lambda: AdcChannelWiring(ain=2, fsr_v=4.096), "NTC at the cable inlet terminals, in V")


# Temperature sensor name (controller/protection/interlocks/temperature.py) -> NTC ADC channel.
NTC_SENSORS = {"inverter": "ntc_inverter", "contactors": "ntc_contactors", "inlet": "ntc_inlet"}


@dataclass(frozen=True)
class NtcAdcWiring:
    enabled: bool = setting(
        True, "a second ADS1115 reads the NTCs (hw/README.md); false only on a bench without "
        "them: then no temperature is supervised")
    address: int = setting(0x49, "its 7-bit I2C address (ADDR pin to VDD)", min=0x48, max=0x4B)
    data_rate_sps: int = setting(128, "conversion rate", unit="SPS", choices=ADS1115_RATES_SPS)
    reference_v: float = setting(3.3, "the dividers' pull-up supply", unit="V", min=1.0,
                                 max=5.5)
    max_sample_age_s: float = setting(
        0.25, "a temperature older than this is not read (one channel converts per tick: at "
        "least 4 control ticks)", unit="s", min=0.05, max=60.0)
    channels: NtcChannelsWiring = section(NtcChannelsWiring, "the NTC channels")


INA228_SHUNT_RANGES_MV = (163.84, 40.96)


@dataclass(frozen=True)
class Ina228Wiring:
    enabled: bool = setting(False, "an INA228 is fitted: a second, independent DC channel "
                            "(voltage, current, energy, charge) with hardware alert limits, its "
                            "ALERT wire-ORed onto the DC alert line (BCM 17): DC over-voltage "
                            "and over-current safe within one tick; without it DC over-current "
                            "has no hardware path and DC over-voltage takes two ticks")
    address: int = setting(0x40, "INA228 7-bit I2C address (A0/A1 pins)", min=0x40, max=0x4F)
    shunt_ohm: float = setting(0.0005, "shunt resistance", unit="ohm", min=1e-6, max=10.0)
    shunt_range_mv: float = setting(163.84, "shunt full-scale range (ADCRANGE)", unit="mV",
                                    choices=INA228_SHUNT_RANGES_MV)
    max_current_a: float = setting(
        300.0, "largest current to measure; sets CURRENT_LSB (the CURRENT register saturates "
        "here, so at least overcurrent_alert_a; the default covers the 0.5 mOhm shunt's "
        "327 A range)", unit="A", min=0.01, max=5000.0)
    bus_scale: float = setting(
        10.0, "DC volts per volt at the VBUS pin (an isolated divider or amplifier)",
        min=0.001, max=10000.0)
    overcurrent_alert_a: float = setting(
        200.0, "ALERT (hardware, latched: DC_LINK_ALERT and the trip latch) when the current "
        "magnitude exceeds this (SOVL/SUVL); times shunt_ohm below shunt_range_mv", unit="A",
        min=0.01, max=5000.0)
    overvoltage_alert_v: float = setting(
        450.0, "ALERT (hardware, latched: DC_LINK_ALERT and the trip latch) when the DC voltage "
        "exceeds this (BOVL); over bus_scale at most the VBUS pin's 85 V; the same level as "
        "hal.i2c.adc.dc_link_alert_v in the reference build", unit="V", min=0.1, max=100000.0)


# The MCP23017 GPIO expander (hal/drivers/mcp23017.py): the CHAdeMO sequence signals. Pins
# 0..7 are GPA0..GPA7, 8..15 are GPB0..GPB7; GPA7 and GPB7 are outputs only (DS20001952C).
EXPANDER_PINS = 16
EXPANDER_OUTPUT_ONLY = (7, 15)
EXPANDER_OUTPUTS = ("ev_d1", "ev_d2", "ev_lock")
EXPANDER_INPUTS = ("ev_permission", "ev_locked")


def _xpin(default: int, doc: str) -> Any:
    return setting(default, doc + " (0..7 = GPA0..GPA7, 8..15 = GPB0..GPB7)", min=0,
                   max=EXPANDER_PINS - 1)


@dataclass(frozen=True)
class ExpanderPinsWiring:
    ev_d1: int = _xpin(0, "output: CHAdeMO charge sequence signal 1 (d1, connector pin 2, "
                       "through its relay)")
    ev_d2: int = _xpin(1, "output: CHAdeMO charge sequence signal 2 (d2, connector pin 10, "
                       "through its relay)")
    ev_lock: int = _xpin(2, "output: CHAdeMO connector lock actuator (high = locked); held on "
                         "the forced-safe path")
    ev_permission: int = _xpin(8, "input: CHAdeMO vehicle charge permission (switch k, "
                               "connector pin 4, through an optocoupler)")
    ev_locked: int = _xpin(9, "input: CHAdeMO connector lock feedback (the lock pin engaged)")


@dataclass(frozen=True)
class ExpanderWiring:
    address: int = setting(0x20, "MCP23017 7-bit I2C address (A0..A2 pins)", min=0x20,
                           max=0x27)
    inputs_active_low: bool = setting(
        True, "the inputs' optocouplers pull the pin low while active (the chip's pull-up and "
        "input polarity register make a low pin read active)")
    pins: ExpanderPinsWiring = section(ExpanderPinsWiring, "which expander pin carries which "
                                       "signal")


@dataclass(frozen=True)
class I2cWiring:
    bus: int = setting(1, "Linux I2C bus number (/dev/i2c-N)", min=0, max=31)
    retries: int = setting(3, "attempts per transfer before a sensor fault", min=1, max=10)
    meter: MeterWiring = section(MeterWiring, "the ADE7953 PCC meter")
    adc: AdcWiring = section(AdcWiring, "the ADS1115 DC-side ADC")
    ina228: Ina228Wiring = section(Ina228Wiring, "the optional INA228 DC monitor")
    expander: ExpanderWiring = section(ExpanderWiring, "the MCP23017 GPIO expander: the CHAdeMO "
                                       "sequence signals (hw/README.md)")
    ntc_adc: NtcAdcWiring = section(NtcAdcWiring, "the ADS1115 reading the NTC temperatures")


@dataclass(frozen=True)
class CanWiring:
    interface: str = setting("socketcan", "python-can interface for the pi backend",
                             choices=("socketcan",))
    inverter_channel: str = setting("can0", "CAN channel to the inverter")
    ev_channel: str = setting("can1", "CAN channel to the EV (CHAdeMO)")


@dataclass(frozen=True)
class SerialWiring:
    ports: tuple[str, ...] = setting(
        [], "serial devices the technician console is served on, e.g. /dev/ttyGS0 (the USB "
        "gadget port hw/install.sh sets up) or /dev/ttyUSB0 (a USB-serial adapter); not the "
        "UART in the reference wiring (BCM 14/15 are safety inputs); the simulator opens a pty "
        "for each instead")
    baudrate: int = setting(115200, "console baud rate", unit="bit/s",
                            choices=(9600, 19200, 38400, 57600, 115200, 230400))


@dataclass(frozen=True)
class HalSettings:
    backend: str = setting("sim", "which hardware backend to build", choices=BACKENDS,
                           required=True)
    gpio: GpioWiring = section(GpioWiring, "GPIO wiring")
    i2c: I2cWiring = section(I2cWiring, "I2C buses and chips")
    can: CanWiring = section(CanWiring, "CAN channels")
    serial: SerialWiring = section(SerialWiring, "technician console serial ports")


INA228_VBUS_PIN_MAX_V = 85.0  # the VBUS pin's full-scale range (TI INA228 datasheet)


def ina228_limit_problems(wiring: Ina228Wiring) -> list[str]:
    """Why the INA228's alert levels do not fit the chip (none when they do): the over-current
    level across the shunt within the shunt range (SOVL) and within the CURRENT register's
    reach (max_current_a), the over-voltage level at the VBUS pin within its 85 V (BOVL).
    Checked at config load (``controller/config/rules.py``) and again
    by the driver, so a level is never silently clipped to the chip's limit."""
    problems: list[str] = []
    shunt_mv = wiring.overcurrent_alert_a * wiring.shunt_ohm * 1000.0
    if shunt_mv >= wiring.shunt_range_mv:
        problems.append(
            f"hal.i2c.ina228.overcurrent_alert_a = {wiring.overcurrent_alert_a} A is "
            f"{shunt_mv:.2f} mV across the {wiring.shunt_ohm} ohm shunt, not below its "
            f"{wiring.shunt_range_mv} mV range (SOVL): lower it, or use a smaller shunt_ohm or "
            "the 163.84 mV shunt_range_mv")
    if wiring.max_current_a < wiring.overcurrent_alert_a:
        problems.append(
            f"hal.i2c.ina228.max_current_a = {wiring.max_current_a} A is below "
            f"overcurrent_alert_a = {wiring.overcurrent_alert_a} A: the CURRENT register "
            "saturates at max_current_a, so the current that trips the alert could not be "
            "read; raise max_current_a to at least the alert level")
    pin_v = wiring.overvoltage_alert_v / wiring.bus_scale
    if pin_v > INA228_VBUS_PIN_MAX_V:
        problems.append(
            f"hal.i2c.ina228.overvoltage_alert_v = {wiring.overvoltage_alert_v} V is "
            f"{pin_v:.2f} V at the VBUS pin (bus_scale {wiring.bus_scale}), above its "
            f"{INA228_VBUS_PIN_MAX_V:.0f} V range (BOVL): lower it or raise bus_scale")
    return problems
