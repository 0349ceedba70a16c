"""The ``pi`` backend: the primitives of a Raspberry Pi (lgpio pins, ``/dev/i2c-N``, socketcan,
pyserial devices, the real clock); ``hal/assembly.py`` builds the devices on them.

Every failure to open hardware is a :class:`HalSetupError` with one clear line; nothing is
energised (outputs are constructed off, and everything opened so far is closed again). The pin
factory is ``LGPIOFactory`` by name (``hal/pin_factories.py``): no other factory, no fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hal.backend_io import BackendIo
from hal.can_link import open_python_can
from hal.clock import RealClock
from hal.errors import HalSetupError
from hal.i2c import SMBusLike
from hal.interfaces.can_link import CanLink
from hal.pin_factories import PI_PIN_FACTORY, open_pin_factory
from hal.settings import HalSettings


def open_smbus(bus_number: int) -> SMBusLike:
    """A handle on ``/dev/i2c-N``; the caller closes it."""
    from smbus2 import SMBus

    try:
        smbus: SMBusLike = SMBus(bus_number)
    except OSError as err:
        raise HalSetupError(
            f"cannot open I2C bus /dev/i2c-{bus_number}: {err} (enable I2C with "
            "dtparam=i2c_arm=on and add the service user to the i2c group)"
        ) from err
    return smbus


def open_io(settings: HalSettings, *, environ: Mapping[str, str] | None = None,
            **_options: object) -> BackendIo:
    """The Pi's primitives; nothing is opened until a device asks for it."""
    channels = {"inverter": settings.can.inverter_channel, "ev": settings.can.ev_channel}
    factories: list[Any] = []

    def pin_factory() -> Any:
        factory = open_pin_factory(PI_PIN_FACTORY, environ=environ)
        factories.append(factory)
        return factory

    def open_can(role: str) -> CanLink:
        channel = channels[role]
        return open_python_can(settings.can.interface, channel, name=channel)

    def close_factories() -> None:
        for factory in factories:
            factory.close()

    return BackendIo(
        name="pi",
        description=f"Raspberry Pi hardware (GPIO via {PI_PIN_FACTORY}, "
        f"/dev/i2c-{settings.i2c.bus}, {settings.can.inverter_channel}, "
        f"{settings.can.ev_channel})",
        clock=RealClock(),
        i2c_name=f"/dev/i2c-{settings.i2c.bus}",
        pin_factory=pin_factory,
        open_smbus=lambda: open_smbus(settings.i2c.bus),
        open_can=open_can,
        serial_path=lambda device: device,
        on_close=[close_factories],
    )

