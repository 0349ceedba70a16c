"""A CAN link: send a frame, drain received frames, never block the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CanFrame:
    """A received classic CAN frame (or an error frame reported by the controller chip)."""

    arbitration_id: int
    data: bytes
    timestamp: float
    is_error_frame: bool = False
    is_extended_id: bool = False


class CanLink(Protocol):
    """One CAN channel (``can0`` to the inverter, ``can1`` to the EV)."""

    name: str

    def send(self, arbitration_id: int, data: bytes) -> None:
        """Queue one frame; raises :class:`hal.errors.HalIOError` when the link refuses it."""
        ...

    def receive(self, max_frames: int = 64) -> list[CanFrame]:
        """Every frame received since the last call (at most ``max_frames``), without waiting."""
        ...

    def discard_queued(self) -> bool:
        """Drop every frame queued for sending and not yet on the wire (after a bus-off they
        are stale); False when the backend cannot reach its queue."""
        ...

    def close(self) -> None:
        """Shut the channel down."""
        ...
