"""The ``pi`` backend's devices one at a time, for when the whole backend cannot be built.

The devices come from the same assembly as ``v2xctl run``'s (:class:`hal.assembly.Assembler` on
the primitives :func:`hal.registry.open_io` returns for ``pi``), so each device is opened exactly
as the controller would open it, only separately, so that one failure does not hide the next.
Contactors are constructed de-energised, as always.
"""

from __future__ import annotations

import dataclasses

from controller.doctor.devices import Devices, i2c_bus_opener
from hal.assembly import CAN_ROLES, Assembler
from hal.errors import BackendUnavailableError, HalSetupError
from hal.registry import open_io
from hal.settings import HalSettings


def open_separately(settings: HalSettings) -> Devices:
    """Open every device of the reference build on its own, noting each one that fails."""
    io = open_io(settings)
    parts = Assembler(settings, io)
    devices = Devices(settings=settings, clock=io.clock, i2c_bus=i2c_bus_opener(io, settings))
    devices.closers += [io.close, parts.close]  # closed newest first: the devices, then io
    _open_gpio(devices, parts)
    for role in CAN_ROLES:
        try:
            devices.can[role] = parts.can_link(role)
        except HalSetupError as err:
            devices.can_problems[role] = str(err)
    return devices


def _open_gpio(devices: Devices, parts: Assembler) -> None:
    try:
        parts.pin_factory()
    except (HalSetupError, BackendUnavailableError, ImportError) as err:
        devices.gpio_problems.append(str(err))
        return
    gpio = devices.settings.gpio
    for f in dataclasses.fields(gpio.contactors):
        try:
            devices.contactors[f.name] = parts.contactor(f.name)
        except HalSetupError as err:
            devices.gpio_problems.append(str(err))
    for f in dataclasses.fields(gpio.inputs):
        try:
            devices.inputs[f.name] = parts.digital_input(f.name)
        except HalSetupError as err:
            devices.gpio_problems.append(str(err))
