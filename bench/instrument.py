"""Instruments for the daemon benchmarks: thread CPU time per layer and I2C bits on the wire.

:class:`TickMeter` wraps, on one simulated charger, the drivers' per-tick entry points (the
I2C reader's jobs: the meter read, the ADC polls) and the simulated I2C bus (the chip
models), accumulating ``time.thread_time_ns`` in each; whatever the tick spends elsewhere is
the controller's own work. It also counts the bits each I2C transaction puts on the wire, as
the simulated bus sees every one:

- a register read (pointer write, repeated start, read of ``n`` bytes): S, address+W, pointer,
  Sr, address+R, ``n`` data bytes, P;
- a block write of ``n`` bytes: S, address+W, pointer, ``n`` bytes, P;
- a combined ``i2c_rdwr``: per message S (or Sr), address, its bytes; one P.

Each byte is 9 clocks (8 bits and the ACK); S, Sr and P count one clock each. Clock stretching
and the gap between transactions are not counted, so wire times are lower bounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

BYTE_CLOCKS = 9  # 8 data bits and the acknowledge bit
CONDITION_CLOCKS = 1  # a START, repeated START or STOP


def register_read_clocks(length: int) -> int:
    return BYTE_CLOCKS * (3 + length) + 3 * CONDITION_CLOCKS


def block_write_clocks(length: int) -> int:
    return BYTE_CLOCKS * (2 + length) + 2 * CONDITION_CLOCKS


def rdwr_clocks(msgs: tuple[Any, ...]) -> int:
    return sum(BYTE_CLOCKS * (1 + int(m.len)) + CONDITION_CLOCKS for m in msgs) + CONDITION_CLOCKS


class TickMeter:
    """Thread CPU time of drivers and simulated chips, and I2C clocks, on one charger."""

    def __init__(self, hw: Any, smbus: Any) -> None:
        self.driver_ns = 0  # inside the driver entry points, chips included
        self.chip_ns = 0  # inside the simulated bus and chip models
        self.i2c_clocks = 0
        self.i2c_transactions = 0
        # The drivers' per-tick calls are the I2C reader's jobs (hal/i2c_reader.py).
        hw.i2c._jobs = [(name, self._timed_driver(read)) for name, read in hw.i2c._jobs]
        self._wrap_bus(smbus, "read_i2c_block_data", lambda a: register_read_clocks(a[2]))
        self._wrap_bus(smbus, "write_i2c_block_data", lambda a: block_write_clocks(len(a[2])))
        self._wrap_bus(smbus, "i2c_rdwr", rdwr_clocks)

    def _timed_driver(self, inner: Callable[[], Any]) -> Callable[[], Any]:
        def timed() -> Any:
            t0 = time.thread_time_ns()
            try:
                return inner()
            finally:
                self.driver_ns += time.thread_time_ns() - t0

        return timed

    def _wrap_bus(self, smbus: Any, name: str, clocks: Callable[[Any], int]) -> None:
        inner = getattr(smbus, name)

        def timed(*args: Any) -> Any:
            self.i2c_clocks += clocks(args)
            self.i2c_transactions += 1
            t0 = time.thread_time_ns()
            try:
                return inner(*args)
            finally:
                self.chip_ns += time.thread_time_ns() - t0

        setattr(smbus, name, timed)

    def reset(self) -> None:
        self.driver_ns = self.chip_ns = self.i2c_clocks = self.i2c_transactions = 0
