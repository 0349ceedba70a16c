"""A serial port on pyserial, never blocking the caller (UART, USB gadget, or a pty)."""

from __future__ import annotations

import contextlib
import select
from typing import Any

import serial

from hal.errors import HalIOError, HalSetupError


class PySerialPort:
    """Non-blocking reads (timeout 0) and writes (write_timeout 0: what fits is written)."""

    def __init__(self, device: str, baudrate: int, name: str | None = None) -> None:
        self.name = name or device
        try:
            self._port: Any = serial.Serial(device, baudrate=baudrate, timeout=0,
                                            write_timeout=0)
        except (serial.SerialException, OSError, ValueError) as err:
            raise HalSetupError(f"cannot open serial port {device}: {err}") from err

    def read(self, max_bytes: int) -> bytes:
        try:
            data: bytes = self._port.read(max_bytes)
        except (serial.SerialException, OSError) as err:
            raise HalIOError(f"serial port {self.name}: read failed: {err}") from err
        return data

    def write(self, data: bytes) -> int:
        try:
            # pyserial 3.5 with write_timeout=0 retries EAGAIN forever once the terminal stops
            # reading (the output buffer is full): never call it unless the port can take a byte.
            _, ready, _ = select.select([], [self._port.fileno()], [], 0)
            if not ready:
                return 0
            written = self._port.write(data)
        except serial.SerialTimeoutException:
            return 0  # the terminal is not reading; the caller drops or retries
        except (serial.SerialException, OSError) as err:
            raise HalIOError(f"serial port {self.name}: write failed: {err}") from err
        return int(written or 0)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._port.close()
