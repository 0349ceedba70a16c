"""One I2C bus shared by every driver: the smbus2 subset we use, behind a lock, with retries.

Drivers never hold an ``smbus2.SMBus`` directly; they get a :class:`I2cBus`, which serialises
transfers (one bus object per bus, smbus2 issue #75), retries a failed transfer a bounded number
of times, and turns the final ``OSError`` into a :class:`hal.errors.HalIOError` naming the bus,
address and register.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from hal.errors import HalIOError

T = TypeVar("T")


class SMBusLike(Protocol):
    """The part of ``smbus2.SMBus`` the drivers use; the simulator's bus implements the same."""

    def i2c_rdwr(self, *i2c_msgs: Any) -> None: ...

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None: ...

    def close(self) -> None: ...


class I2cBus:
    """A locked, retrying wrapper around one SMBus-compatible object."""

    def __init__(self, smbus: SMBusLike, name: str, retries: int = 3) -> None:
        if retries < 1:
            raise ValueError("retries must be at least 1")
        self._bus = smbus
        self._lock = threading.Lock()
        self.name = name
        self.retries = retries
        self.errors = 0

    def transfer(self, address: int, register: int, op: Callable[[SMBusLike], T]) -> T:
        """Run ``op`` on the bus under the lock, retrying ``OSError`` up to ``retries`` times."""
        with self._lock:
            return self._attempts(address, register, op, self.retries, None)

    def _attempts(self, address: int, register: int, op: Callable[[SMBusLike], T],
                  attempts: int, last: OSError | None) -> T:
        """Up to ``attempts`` tries of ``op`` (the caller holds the lock), then HalIOError."""
        for _attempt in range(attempts):
            try:
                return op(self._bus)
            except OSError as err:
                self.errors += 1
                last = err
        raise HalIOError(
            f"I2C {self.name} address 0x{address:02X} register 0x{register:03X}: "
            f"{last} (after {self.retries} attempts)"
        ) from last

    def _call(self, address: int, register: int, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` (a method of the SMBus) under the lock, retried like :meth:`transfer`.
        The first attempt builds no closure: the meter and the ADCs come here every tick."""
        with self._lock:
            try:
                return call(*args)
            except OSError as err:
                self.errors += 1
                return self._attempts(address, register, lambda _bus: call(*args),
                                      self.retries - 1, err)

    def read_block(self, address: int, register: int, length: int) -> bytes:
        """Write the 8-bit register pointer, read ``length`` bytes."""
        return bytes(self._call(address, register, self._bus.read_i2c_block_data,
                                address, register, length))

    def write_block(self, address: int, register: int, data: Sequence[int]) -> None:
        """Write the 8-bit register pointer followed by ``data``."""
        self._call(address, register, self._bus.write_i2c_block_data, address, register,
                   list(data))

    def rdwr(self, address: int, register: int, *msgs: Any) -> None:
        """A combined transaction (repeated start) of ``smbus2.i2c_msg`` messages."""
        self._call(address, register, self._bus.i2c_rdwr, *msgs)

    def close(self) -> None:
        with self._lock:
            self._bus.close()
