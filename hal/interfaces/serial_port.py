"""A serial port for the technician console (UART, USB gadget, or a pty in the simulator)."""

from __future__ import annotations

from typing import Protocol


class SerialPort(Protocol):
    """Byte stream; reads never block longer than the port's configured timeout."""

    name: str

    def read(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` bytes, possibly none."""
        ...

    def write(self, data: bytes) -> int:
        """Write what the port accepts without blocking; returns the count written."""
        ...

    def close(self) -> None:
        """Close the port."""
        ...
