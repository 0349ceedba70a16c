"""The ``pi`` backend's devices one at a time, for when the whole backend cannot be built.

This is the doctor's one reach past :mod:`hal.registry` into a backend: it reuses
``hal.pi.backend``'s own openers (pin factory, ``/dev/i2c-N``) and the same device classes, so
each device is opened exactly as ``v2xctl run`` would open it, only separately, so that one
failure does not hide the next. Contactors are constructed de-energised, as always.
"""

from __future__ import annotations

import contextlib
import dataclasses
from contextlib import AbstractContextManager

from controller.doctor.devices import BusOpener, Devices
from hal.can_link import open_python_can
from hal.clock import RealClock
from hal.errors import BackendUnavailableError, HalSetupError
from hal.gpio_devices import GpioContactor, GpioInput
from hal.i2c import I2cBus
from hal.settings import HalSettings


def i2c_bus_opener(settings: HalSettings) -> BusOpener:
    """Opens a fresh handle on ``/dev/i2c-N`` (closed again when the probes are done)."""

    def opener() -> AbstractContextManager[I2cBus]:
        from hal.pi.backend import _open_smbus

        bus = _open_smbus(settings.i2c.bus)
        bus.retries = settings.i2c.retries
        return contextlib.closing(bus)

    return opener


def open_separately(settings: HalSettings) -> Devices:
    """Open every device of the reference build on its own, noting each one that fails."""
    devices = Devices(settings=settings, clock=RealClock(), i2c_bus=i2c_bus_opener(settings))
    _open_gpio(devices, settings)
    for role, channel in (("inverter", settings.can.inverter_channel),
                          ("ev", settings.can.ev_channel)):
        try:
            link = open_python_can(settings.can.interface, channel, name=channel)
        except HalSetupError as err:
            devices.can_problems[role] = str(err)
            continue
        devices.can[role] = link
        devices.closers.append(link.close)
    return devices


def _open_gpio(devices: Devices, settings: HalSettings) -> None:
    try:
        from hal.pi.backend import _pin_factory

        factory = _pin_factory()
    except (HalSetupError, BackendUnavailableError, ImportError) as err:
        devices.gpio_problems.append(str(err))
        return
    gpio = settings.gpio
    for f in dataclasses.fields(gpio.contactors):
        try:
            contactor = GpioContactor(f.name, getattr(gpio.contactors, f.name), factory)
        except HalSetupError as err:
            devices.gpio_problems.append(str(err))
            continue
        devices.contactors[f.name] = contactor
        devices.closers.append(contactor.close)
    for f in dataclasses.fields(gpio.inputs):
        try:
            inp = GpioInput(f.name, getattr(gpio.inputs, f.name), factory)
        except HalSetupError as err:
            devices.gpio_problems.append(str(err))
            continue
        devices.inputs[f.name] = inp
        devices.closers.append(inp.close)
