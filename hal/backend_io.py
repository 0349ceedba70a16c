"""What a backend supplies: I/O primitives only, never a device.

A backend (``hal/pi/backend.py``, ``hal/sim/backend.py``) says how to reach the pins, the I2C
bus, the CAN channels and the serial ports, and which clock runs; :func:`hal.assembly.assemble`
builds every device of the reference build on these primitives, the same way for each backend
and for the doctor. Openers are called only when a device needs them, so a missing bus fails
that device's construction, not the backend's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hal.i2c import SMBusLike
from hal.interfaces.can_link import CanLink
from hal.interfaces.clock import Clock


def _no_terminal(_device: str) -> str | None:
    return None


@dataclass
class BackendIo:
    """The primitives of one backend; :meth:`close` releases what the backend itself owns.

    ``pin_factory()`` constructs (the Pi: ``LGPIOFactory``) or hands over (the simulator: its
    ``MockFactory``) the gpiozero pin factory every GPIO device is built on.
    ``open_smbus()`` opens a handle on the configured I2C bus; whoever opens it closes it.
    ``open_can(role)`` opens the CAN link for ``"inverter"`` or ``"ev"``.
    ``serial_path(device)`` is the path to open for the configured console port ``device``.
    ``open_terminal(device)`` is where a person attaches a terminal program to that port (the
    simulator's null-modem cable), or None where the port is a real wire.
    """

    name: str
    description: str
    clock: Clock
    i2c_name: str
    pin_factory: Callable[[], Any]
    open_smbus: Callable[[], SMBusLike]
    open_can: Callable[[str], CanLink]
    serial_path: Callable[[str], str]
    open_terminal: Callable[[str], str | None] = _no_terminal
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Release the backend's own resources, newest first; never raises."""
        for closer in reversed(self.on_close):
            with contextlib.suppress(Exception):
                closer()
        self.on_close.clear()
