"""A simulated I2C bus: an ``smbus2.SMBus`` look-alike serving register-level chip models.

Device models see the bus exactly as a chip does, one raw transaction at a time: the bytes the
master writes (``on_write``) and the number of bytes it clocks out (``on_read``). The bus adds what
the wire can do wrong, per address, for fault-injection tests:

* ``"absent"``     -- NACK every transfer (``OSError(EREMOTEIO)``), as if the chip were unplugged;
* ``"nack_next:N"`` -- NACK the next N transfers, then recover;
* ``"stuck"``      -- reads return the last answer forever, writes are ACKed and ignored;
* ``"garbage"``    -- reads return random bytes from the bus's seeded numpy ``Generator``.

One *transfer* is one call on the bus (``i2c_rdwr``, ``read_i2c_block_data``,
``write_i2c_block_data``), i.e. one attempt of :meth:`hal.i2c.I2cBus.transfer`.
"""

from __future__ import annotations

import ctypes
import errno
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

I2C_M_RD = 0x0001  # i2c_msg.flags bit: this message is a read
SMBUS_BLOCK_MAX = 32  # smbus2 block transfers carry at most 32 data bytes
FAULT_ABSENT = "absent"
FAULT_NACK_NEXT = "nack_next"
FAULT_STUCK = "stuck"
FAULT_GARBAGE = "garbage"
_MAX_REPLY_VIEWS = 64  # read messages whose buffer view is kept (drivers reuse a few)


class I2cDeviceModel(Protocol):
    """A chip on the simulated bus, at the raw transaction level."""

    def on_write(self, data: bytes) -> None:
        """The master wrote ``data`` (register pointer and payload, as on the wire)."""
        ...

    def on_read(self, n: int) -> bytes:
        """The master reads ``n`` bytes; return exactly ``n``."""
        ...


def _remote_io_error() -> OSError:
    return OSError(errno.EREMOTEIO, "Remote I/O error")


class SimSMBus:
    """Serves registered :class:`I2cDeviceModel` objects by 7-bit address."""

    def __init__(self, rng: np.random.Generator | None = None, *, seed: int = 0) -> None:
        """``rng`` drives the "garbage" fault; without it one is seeded from ``seed``."""
        self._devices: dict[int, I2cDeviceModel] = {}
        self._faults: dict[int, str] = {}
        self._nacks_left: dict[int, int] = {}
        self._last_read: dict[int, bytes] = {}
        self._rng = rng if rng is not None else np.random.default_rng(seed)
        self._closed = False
        self._reply_views: dict[int, tuple[Any, memoryview]] = {}
        # The chips a transfer reaches directly: every chip while the bus is open and no fault
        # is injected anywhere (the same dict as _devices), none otherwise (_update_quiet).
        self._quiet: dict[int, I2cDeviceModel] = self._devices
        self.transfers: Counter[int] = Counter()
        """Transfers attempted per address (including NACKed ones)."""
        self.nacks: Counter[int] = Counter()
        """Transfers NACKed per address (missing device or injected fault)."""

    # -- set-up and fault injection ---------------------------------------------------------

    def add_device(self, address: int, model: I2cDeviceModel) -> None:
        if not 0x03 <= address <= 0x77:
            raise ValueError(f"0x{address:02X} is not a 7-bit device address")
        if address in self._devices:
            raise ValueError(f"address 0x{address:02X} is already taken")
        self._devices[address] = model

    def remove_device(self, address: int) -> None:
        self._devices.pop(address, None)

    def inject(self, address: int, fault: str) -> None:
        """Inject ``fault`` (see the module doc) on ``address`` until :meth:`clear`."""
        name, _, arg = fault.partition(":")
        if name == FAULT_NACK_NEXT:
            count = int(arg)
            if count < 0:
                raise ValueError("nack_next needs a count >= 0")
            self._nacks_left[address] = count
            self._update_quiet()
            return
        if name not in (FAULT_ABSENT, FAULT_STUCK, FAULT_GARBAGE) or arg:
            raise ValueError(f"unknown fault {fault!r}")
        self._faults[address] = name
        self._update_quiet()

    def clear(self, address: int) -> None:
        """Remove every injected fault on ``address``."""
        self._faults.pop(address, None)
        self._nacks_left.pop(address, None)
        self._update_quiet()

    # -- the SMBus subset (hal.i2c.SMBusLike) ------------------------------------------------

    def i2c_rdwr(self, *i2c_msgs: Any) -> None:
        """A combined transaction of ``smbus2.i2c_msg`` messages; read buffers are filled."""
        if len(i2c_msgs) == 2:  # the register read (pointer write, repeated start, read)
            pointer, reply = i2c_msgs
            address = int(pointer.addr)
            if (not pointer.flags & I2C_M_RD and reply.flags & I2C_M_RD
                    and int(reply.addr) == address):
                n = int(reply.len)
                model = self._quiet.get(address)
                if model is not None:  # the usual case, in one frame: see _update_quiet
                    self.transfers[address] += 1
                    model.on_write(pointer.buf[:pointer.len])  # a slice: cheaper than bytes()
                    data = self._checked(address, model.on_read(n), n)
                else:
                    self._begin(address)
                    self._write(address, pointer.buf[:pointer.len])
                    data = self._read(address, n)
                self._reply_view(reply)[:len(data)] = data
                return
        parts = [(int(msg.addr), msg) for msg in i2c_msgs]
        for address in dict.fromkeys(address for address, _ in parts):  # in order, once each
            self._begin(address)
        for address, msg in parts:
            if msg.flags & I2C_M_RD:
                data = self._read(address, int(msg.len))
                ctypes.memmove(msg.buf, data, len(data))
            else:
                self._write(address, bytes(msg))

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        if not 0 <= length <= SMBUS_BLOCK_MAX:
            raise ValueError(f"block length {length} is outside 0..{SMBUS_BLOCK_MAX}")
        model = self._quiet.get(i2c_addr)
        if model is not None:
            self.transfers[i2c_addr] += 1
            model.on_write(bytes((register & 0xFF,)))
            return list(self._checked(i2c_addr, model.on_read(length), length))
        self._begin(i2c_addr)
        self._write(i2c_addr, bytes([register & 0xFF]))
        return list(self._read(i2c_addr, length))

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        if len(data) > SMBUS_BLOCK_MAX:
            raise ValueError(f"block length {len(data)} exceeds {SMBUS_BLOCK_MAX}")
        model = self._quiet.get(i2c_addr)
        if model is not None:
            self.transfers[i2c_addr] += 1
            model.on_write(bytes([register & 0xFF, *data]))
            return
        self._begin(i2c_addr)
        self._write(i2c_addr, bytes([register & 0xFF, *data]))

    def close(self) -> None:
        self._closed = True
        self._update_quiet()

    # -- internals ---------------------------------------------------------------------------

    def _reply_view(self, msg: Any) -> memoryview:
        """A writable view of a read message's buffer, kept per message (the message too, so
        its id stays its own): drivers reuse their read messages, and a slice assignment costs
        a tenth of ``ctypes.memmove``."""
        cached = self._reply_views.get(id(msg))
        if cached is not None and cached[0] is msg:
            return cached[1]
        if not msg.len:
            return memoryview(bytearray())  # nothing to fill (and maybe no buffer)
        buffer = (ctypes.c_char * int(msg.len)).from_address(ctypes.addressof(msg.buf.contents))
        view = memoryview(buffer).cast("B")
        if len(self._reply_views) >= _MAX_REPLY_VIEWS:
            self._reply_views.clear()
        self._reply_views[id(msg)] = (msg, view)
        return view

    def _update_quiet(self) -> None:
        """After any change to the bus's state or faults: while a transfer cannot fail or be
        altered (bus open, no fault injected anywhere), every chip is reached directly: the
        caller counts the transfer and talks to the model as :meth:`_begin`, :meth:`_write`
        and :meth:`_read` would (the same calls on the model, in the same order); otherwise
        none is, and every transfer takes that general path. Chips added or removed later
        change ``_devices``, which is ``_quiet`` itself while quiet."""
        quiet = not (self._closed or self._nacks_left or self._faults)
        self._quiet = self._devices if quiet else {}

    def _checked(self, address: int, reply: bytes | bytearray, n: int) -> bytes:
        """A model's answer to a read of ``n`` bytes, kept as the last read (``stuck``)."""
        data = reply if type(reply) is bytes else bytes(reply)
        if len(data) != n:
            raise AssertionError(f"model at 0x{address:02X} returned {len(data)} of {n} bytes")
        self._last_read[address] = data
        return data

    def _begin(self, address: int) -> None:
        """Count one transfer on ``address`` and NACK it if the device is missing or faulted."""
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor (bus closed)")
        self.transfers[address] += 1
        if not self._nacks_left and not self._faults and address in self._devices:
            return  # the usual case: a present chip and no fault injected anywhere
        nacks = self._nacks_left.get(address, 0)
        if nacks > 0:
            self._nacks_left[address] = nacks - 1
            self.nacks[address] += 1
            raise _remote_io_error()
        if address not in self._devices or self._faults.get(address) == FAULT_ABSENT:
            self.nacks[address] += 1
            raise _remote_io_error()

    def _write(self, address: int, data: bytes) -> None:
        if self._faults and self._faults.get(address) == FAULT_STUCK:
            return
        self._devices[address].on_write(data)

    def _read(self, address: int, n: int) -> bytes:
        fault = self._faults.get(address) if self._faults else None
        if fault == FAULT_STUCK:
            last = self._last_read.get(address) or b"\xff"
            return (last * (n // len(last) + 1))[:n]
        data = self._checked(address, self._devices[address].on_read(n), n)
        if fault == FAULT_GARBAGE:
            data = self._last_read[address] = self._rng.integers(
                0, 256, size=n, dtype=np.uint8).tobytes()
        return data

