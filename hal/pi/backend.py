"""The ``pi`` backend: real GPIO (gpiozero's default pin factory), I2C, socketcan and clock.

Every failure to open hardware is a :class:`HalSetupError` with one clear line; nothing is
energised (outputs are constructed off, and everything opened so far is closed again).
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path

from hal.analog_inputs import open_analog
from hal.can_link import PythonCanLink, open_python_can
from hal.clock import RealClock
from hal.drivers.ade7953 import Ade7953
from hal.errors import BackendUnavailableError, HalSetupError
from hal.gpio_devices import GpioContactor, GpioInput
from hal.i2c import I2cBus
from hal.interfaces.contactor import Contactor
from hal.interfaces.digital_input import DigitalInput
from hal.interfaces.hardware import Hardware
from hal.interfaces.serial_port import SerialPort
from hal.serial_port import PySerialPort
from hal.settings import HalSettings
from hal.watchdog_kick import GpioWatchdogKick

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


def _is_raspberry_pi(model_file: Path = DEVICE_TREE_MODEL) -> bool:
    """The device tree names the board on every Raspberry Pi ("Raspberry Pi 4 Model B ...")."""
    try:
        return "Raspberry Pi" in model_file.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False


def _pin_factory() -> object:
    try:
        from gpiozero import Device
        from gpiozero.exc import BadPinFactory
    except ImportError as err:  # pragma: no cover - gpiozero is a hard dependency
        raise BackendUnavailableError(f"gpiozero cannot be imported: {err}") from err
    with warnings.catch_warnings(record=True) as tried:
        warnings.simplefilter("always")
        try:
            if Device.pin_factory is None:
                Device.pin_factory = Device._default_pin_factory()
            return Device.pin_factory
        except (BadPinFactory, OSError, RuntimeError) as err:
            if not _is_raspberry_pi():  # off a Pi every factory's import error is noise
                raise HalSetupError(
                    f"this is not a Raspberry Pi ({DEVICE_TREE_MODEL} names none), so the 'pi' "
                    "backend has no GPIO; use hal.backend = \"sim\" off the Pi") from err
            reasons = "; ".join(str(w.message).removeprefix("Falling back from ")
                                for w in tried) or str(err)
            raise HalSetupError(
                f"no usable GPIO pin factory ({reasons}); on a Raspberry Pi install the 'pi' "
                "extra (lgpio) and run as a user in the gpio group"
            ) from err


def _open_smbus(bus_number: int) -> I2cBus:
    from smbus2 import SMBus

    try:
        smbus = SMBus(bus_number)
    except (OSError, FileNotFoundError) as err:
        raise HalSetupError(
            f"cannot open I2C bus /dev/i2c-{bus_number}: {err} (enable I2C with "
            "dtparam=i2c_arm=on and add the service user to the i2c group)"
        ) from err
    return I2cBus(smbus, name=f"/dev/i2c-{bus_number}")


def build(settings: HalSettings, **_options: object) -> Hardware:
    """Open every device of the reference build; on any failure close what was opened."""
    cleanup: list[Callable[[], None]] = []
    try:
        factory = _pin_factory()
        gpio = settings.gpio
        contactors: dict[str, Contactor] = {}
        for f in dataclasses.fields(gpio.contactors):
            device = GpioContactor(f.name, getattr(gpio.contactors, f.name), factory)
            cleanup.append(device.close)
            contactors[f.name] = device
        inputs: dict[str, DigitalInput] = {}
        for f in dataclasses.fields(gpio.inputs):
            inp = GpioInput(f.name, getattr(gpio.inputs, f.name), factory)
            cleanup.append(inp.close)
            inputs[f.name] = inp
        kick = GpioWatchdogKick(gpio.watchdog, factory)
        cleanup.append(kick.close)
        clock = RealClock()
        bus = _open_smbus(settings.i2c.bus)
        bus.retries = settings.i2c.retries
        cleanup.append(bus.close)
        meter = Ade7953(bus, settings.i2c.meter, clock.now)
        analog = open_analog(bus, settings.i2c, clock.now)
        links: dict[str, PythonCanLink] = {}
        for role, channel in (("inverter", settings.can.inverter_channel),
                              ("ev", settings.can.ev_channel)):
            link = open_python_can(settings.can.interface, channel, name=channel)
            cleanup.append(link.close)
            links[role] = link
        ports: dict[str, SerialPort] = {}
        for port_path in settings.serial.ports:
            port = PySerialPort(port_path, settings.serial.baudrate)
            cleanup.append(port.close)
            ports[port_path] = port
    except BaseException:
        for closer in reversed(cleanup):
            with contextlib.suppress(Exception):
                closer()
        raise
    return Hardware(
        description=f"Raspberry Pi hardware (GPIO, /dev/i2c-{settings.i2c.bus}, "
        f"{settings.can.inverter_channel}, {settings.can.ev_channel})",
        clock=clock,
        contactors=contactors,
        inputs=inputs,
        meter=meter,
        adc=analog.adc,
        thermal=analog.thermal,
        can=links,
        serial=ports,
        temperatures=analog.temperatures,
        watchdog=kick,
    )
