"""What the doctor can reach: the devices of a built backend, or each device opened on its own.

``v2xctl doctor`` first builds the configured backend exactly as ``v2xctl run`` does. When that
works, every check looks at the built devices. When it fails, the doctor does not stop there: on
the Pi it opens each device separately (:mod:`controller.doctor.pi_devices`, with the same
assembly, ``hal/assembly.py``) so that every problem is reported in one run, not one per
attempt. The simulator lives inside the backend it builds, so when the sim backend fails to
build there is nothing separate to open and the device checks are skipped with the reason.

The I2C chips are always probed afresh through a bus handle from :attr:`Devices.i2c_bus`, opened
by the backend's own SMBus opener (:class:`hal.backend_io.BackendIo`): on the Pi a second handle
on ``/dev/i2c-N``, in the simulator the simulated world's bus, so a chip that went missing after
start-up (or in a training fault) is found too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from hal.backend_io import BackendIo
from hal.clock import RealClock
from hal.i2c import I2cBus
from hal.interfaces.can_link import CanLink
from hal.interfaces.clock import Clock
from hal.interfaces.contactor import Contactor
from hal.interfaces.digital_input import DigitalInput
from hal.interfaces.hardware import Hardware
from hal.interfaces.serial_port import SerialPort
from hal.settings import HalSettings

BusOpener = Callable[[], AbstractContextManager[I2cBus]]


def i2c_bus_label(settings: HalSettings) -> str:
    """How the doctor names the I2C bus: the Linux device, marked when it is simulated."""
    device = f"/dev/i2c-{settings.i2c.bus}"
    return f"{device} (simulated)" if settings.backend == "sim" else device


@dataclass
class Devices:
    """Opened devices (each de-energised), what could not be opened, and how to reach I2C."""

    settings: HalSettings
    clock: Clock
    hardware: Hardware | None = None
    contactors: dict[str, Contactor] = field(default_factory=dict)
    inputs: dict[str, DigitalInput] = field(default_factory=dict)
    gpio_problems: list[str] = field(default_factory=list)
    can: dict[str, CanLink] = field(default_factory=dict)
    can_problems: dict[str, str] = field(default_factory=dict)
    serial: dict[str, SerialPort] = field(default_factory=dict)
    i2c_bus: BusOpener | None = None
    unreachable: str = ""
    """Why no device can be checked at all ("" when they can)."""
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return self.settings.backend == "sim"

    @property
    def built(self) -> bool:
        """True when the whole backend was built (rather than device by device)."""
        return self.hardware is not None

    def close(self) -> None:
        """Drop every coil and release everything; never raises."""
        for contactor in self.contactors.values():
            with contextlib.suppress(Exception):
                contactor.de_energise()
        if self.hardware is not None:
            self.hardware.close()
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer()


def from_hardware(hardware: Hardware, settings: HalSettings) -> Devices:
    """The devices of a built backend."""
    devices = Devices(settings=settings, clock=hardware.clock, hardware=hardware,
                      contactors=dict(hardware.contactors), inputs=dict(hardware.inputs),
                      can=dict(hardware.can), serial=dict(hardware.serial))
    devices.i2c_bus = i2c_bus_opener(hardware.io, settings)
    return devices


def unreachable(settings: HalSettings, reason: str) -> Devices:
    """Nothing to check device by device (the simulator did not build)."""
    return Devices(settings=settings, clock=RealClock(), unreachable=reason)


def i2c_bus_opener(io: BackendIo, settings: HalSettings) -> BusOpener:
    """A fresh :class:`I2cBus` on the backend's SMBus opener, closed when the probes are done."""
    label = i2c_bus_label(settings)
    retries = settings.i2c.retries

    def opener() -> AbstractContextManager[I2cBus]:
        return contextlib.closing(I2cBus(io.open_smbus(), name=label, retries=retries))

    return opener
