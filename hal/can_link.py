"""A :class:`hal.interfaces.CanLink` on top of any python-can bus (socketcan, virtual, ...).

Never blocks: sends use ``timeout=0`` and receiving drains what is already queued. python-can
errors become the project's errors: :class:`HalSetupError` when a bus cannot be opened,
:class:`HalIOError` when an opened bus refuses a transfer.
"""

from __future__ import annotations

from typing import Any, Final

import can

from hal.errors import HalIOError, HalSetupError, ProtocolError
from hal.interfaces.can_link import CanFrame

MAX_STANDARD_ID: Final = 0x7FF
MAX_CLASSIC_DLC: Final = 8
DEFAULT_MAX_FRAMES: Final = 64
_NON_BLOCKING: Final = 0.0
_OPEN_ERRORS: Final = (
    can.CanInterfaceNotImplementedError,
    can.CanError,
    OSError,
    ValueError,
    ImportError,  # an interface whose optional driver package is missing
)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class PythonCanLink:
    """One python-can bus as a non-blocking :class:`hal.interfaces.CanLink`."""

    def __init__(self, bus: can.BusABC, name: str) -> None:
        self.name = name
        self._bus = bus
        self._closed = False
        self.channel_info = _one_line(bus.channel_info)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    def send(self, arbitration_id: int, data: bytes) -> None:
        """Queue one classic 11-bit frame; raises HalIOError when the bus refuses it."""
        if not 0 <= arbitration_id <= MAX_STANDARD_ID or len(data) > MAX_CLASSIC_DLC:
            raise ProtocolError(
                f"CAN {self.name}: frame 0x{arbitration_id:X} with {len(data)} bytes is not a "
                "classic 11-bit frame"
            )
        if self._closed:
            raise HalIOError(
                f"CAN {self.name}: send of frame 0x{arbitration_id:03X} on a closed link"
            )
        message = can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=False)
        try:
            self._bus.send(message, timeout=_NON_BLOCKING)
        except (can.CanError, OSError) as exc:
            raise HalIOError(
                f"CAN {self.name} ({self.channel_info}): send of frame 0x{arbitration_id:03X} "
                f"failed: {_one_line(exc)}"
            ) from exc

    def receive(self, max_frames: int = DEFAULT_MAX_FRAMES) -> list[CanFrame]:
        """Frames already received (at most ``max_frames``), error frames included and flagged."""
        if self._closed:
            raise HalIOError(f"CAN {self.name}: receive on a closed link")
        frames: list[CanFrame] = []
        for _ in range(max_frames):
            try:
                message = self._bus.recv(timeout=_NON_BLOCKING)
            except (can.CanError, OSError) as exc:
                raise HalIOError(
                    f"CAN {self.name} ({self.channel_info}): receive failed: {_one_line(exc)}"
                ) from exc
            if message is None:
                break
            frames.append(CanFrame(  # positional (per frame): id, data, time, error, extended
                message.arbitration_id, bytes(message.data), message.timestamp,
                message.is_error_frame, message.is_extended_id))
        return frames

    def discard_queued(self) -> bool:
        """Drop the frames queued for sending (python-can's ``flush_tx_buffer``); False when the
        interface cannot. SocketCAN cannot: its frames wait in the kernel's queue, out of reach
        of a socket (``docs/inverter-protocol.md``, bus-off)."""
        if self._closed:
            return False
        try:
            self._bus.flush_tx_buffer()
        except NotImplementedError:
            return False
        except (can.CanError, OSError) as exc:
            raise HalIOError(
                f"CAN {self.name} ({self.channel_info}): dropping the transmit queue failed: "
                f"{_one_line(exc)}"
            ) from exc
        return True

    def close(self) -> None:
        """Shut the bus down (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._bus.shutdown()


def open_python_can(interface: str, channel: str, name: str, **options: Any) -> PythonCanLink:
    """Open ``can.Bus(interface=..., channel=..., **options)`` as a link named ``name``.

    Any failure (unknown interface, missing device, driver error, bad option) becomes one
    :class:`HalSetupError` line naming the interface, the channel and the cause.
    """
    try:
        bus = can.Bus(interface=interface, channel=channel, **options)
    except _OPEN_ERRORS as exc:
        raise HalSetupError(
            f"cannot open CAN {name}: interface {interface!r} channel {channel!r}: "
            f"{type(exc).__name__}: {_one_line(exc)}"
        ) from exc
    return PythonCanLink(bus, name)
