"""I2C: each chip answers at its address with the right identity, through its driver's own
presence check (the ADE7953's VERSION register and start-up configuration, the ADS1115's Config
register read-back, the MCP23017's IODIR read-back). The chips are probed one by one, so a
missing meter does not hide the ADC."""

from __future__ import annotations

from collections.abc import Callable

from controller.doctor.dc_alert_check import fast_alert_check
from controller.doctor.devices import Devices, i2c_bus_label
from controller.doctor.i2c_speed import CHECK as SPEED_CHECK
from controller.doctor.i2c_speed import speed_check
from controller.doctor.report import Check, failed, passed, skipped
from hal.drivers.ade7953 import CHIP as ADE7953
from hal.drivers.ade7953 import Ade7953
from hal.drivers.ads1115 import CHIP as ADS1115
from hal.drivers.ads1115 import Ads1115
from hal.drivers.ina228 import CHIP as INA228
from hal.drivers.ina228 import Ina228
from hal.drivers.mcp23017 import CHIP as MCP23017
from hal.drivers.mcp23017 import Mcp23017
from hal.errors import HalIOError, HalSetupError
from hal.i2c import I2cBus

Probe = Callable[[I2cBus], str]


def _chip_hint(chip: str, key: str, address: int, bus_label: str, bus_number: int) -> str:
    return (f"nothing usable answered at 0x{address:02X} on {bus_label}: check the {chip} "
            f"board's supply, its SDA/SCL wiring and pull-ups and its address pins; "
            f"`i2cdetect -y {bus_number}` must show {address:02x}; if it shows the chip at "
            f"another address, set hal.i2c.{key}.address to it")


def _bus_hint(bus_label: str) -> str:
    return (f"{bus_label} cannot be opened: enable I2C (dtparam=i2c_arm=on in "
            "/boot/firmware/config.txt, then reboot), check the device exists, and that the "
            "service user is in the i2c group")


def i2c_checks(devices: Devices) -> list[Check]:
    """Each chip's check, then the bus speed (``i2c.speed``) and the DC alert line's
    (``dc.fast_alert``)."""
    if devices.unreachable:
        speed = skipped(SPEED_CHECK, f"bus speed not read: {devices.unreachable}")
    else:
        speed = speed_check(devices.settings.i2c.bus, devices.settings.backend == "sim")
    return [*_chip_checks(devices), speed, fast_alert_check(devices.settings)]


def _chip_checks(devices: Devices) -> list[Check]:
    settings = devices.settings
    i2c = settings.i2c
    label = i2c_bus_label(settings)
    now = devices.clock.now

    def probe_meter(bus: I2cBus) -> str:
        meter = Ade7953(bus, i2c.meter, now)
        meter.close()
        return f"{ADE7953} at 0x{i2c.meter.address:02X} on {label} answered, version " \
               f"0x{meter.version:02X}"

    def probe_adc(bus: I2cBus) -> str:
        adc = Ads1115(bus, i2c.adc, now)
        adc.close()
        return (f"{ADS1115} at 0x{i2c.adc.address:02X} on {label} answered, Config read "
                f"0x{adc.power_up_config:04X} and took a test setting")

    def probe_expander(bus: I2cBus) -> str:
        chip = Mcp23017(bus, i2c.expander)  # configured: outputs off, then every pin an input
        try:
            chip.poll()
        finally:
            chip.release()
        return (f"{MCP23017} at 0x{i2c.expander.address:02X} on {label} answered, IODIR read "
                f"back; switch k {'on' if chip.level(i2c.expander.pins.ev_permission) else 'off'}"
                f", lock feedback {'on' if chip.level(i2c.expander.pins.ev_locked) else 'off'}")

    def probe_ina228(bus: I2cBus) -> str:
        chip = Ina228(bus, i2c.ina228, now)  # IDs, then every register written and read back
        chip.close()
        return (f"{INA228} at 0x{i2c.ina228.address:02X} on {label} answered; ADC_CONFIG, "
                "SHUNT_CAL, the SOVL/SUVL/BOVL limits and DIAG_ALRT (ALATCH) read back as "
                "written")

    chips: list[tuple[str, str, str, int, Probe]] = [
        ("i2c.meter", ADE7953, "meter", i2c.meter.address, probe_meter),
        ("i2c.adc", ADS1115, "adc", i2c.adc.address, probe_adc),
        ("i2c.expander", MCP23017, "expander", i2c.expander.address, probe_expander),
    ]
    if i2c.ina228.enabled:
        chips.append(("i2c.ina228", INA228, "ina228", i2c.ina228.address, probe_ina228))
    if devices.unreachable or devices.i2c_bus is None:
        reason = devices.unreachable or "the backend offers no way to reach the bus"
        return [skipped(name, f"{chip} at 0x{address:02X} not checked: {reason}")
                for name, chip, _key, address, _probe in chips]
    try:
        handle = devices.i2c_bus()  # opens the bus now; closed when the probes are done
    except HalSetupError as err:
        return [failed(name, f"{chip} at 0x{address:02X} not reachable: {err}", _bus_hint(label))
                for name, chip, _key, address, _probe in chips]
    checks: list[Check] = []
    with handle as bus:
        for name, chip, key, address, probe in chips:
            try:
                checks.append(passed(name, probe(bus)))
            except (HalSetupError, HalIOError) as err:
                checks.append(failed(name, str(err),
                                     _chip_hint(chip, key, address, label, i2c.bus)))
    return checks
