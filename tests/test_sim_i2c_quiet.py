"""The simulated I2C bus's direct path (``SimSMBus._update_quiet``): with no fault injected it
hands transfers straight to the chip; every fault injected after quiet transfers, its clearing
and the bus's closing switch the next transfer to the general path (and back), on each of the
three transfer kinds, with every transfer counted."""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest
from smbus2 import i2c_msg

from hal.sim.i2c_bus import SimSMBus

ADDRESS = 0x38
OTHER = 0x39


class Registers:
    """A chip with 256 byte registers and an auto-incrementing pointer; it counts its calls."""

    def __init__(self) -> None:
        self.values = bytearray(range(256))
        self.pointer = 0
        self.calls = 0

    def on_write(self, data: bytes) -> None:
        self.calls += 1
        if data:
            self.pointer = data[0]
            for offset, byte in enumerate(data[1:]):
                self.values[(self.pointer + offset) & 0xFF] = byte

    def on_read(self, n: int) -> bytes:
        self.calls += 1
        start, self.pointer = self.pointer, (self.pointer + n) & 0xFF
        return bytes(self.values[(start + i) & 0xFF] for i in range(n))


def read_rdwr(bus: SimSMBus, register: int, n: int) -> list[int]:
    reply = i2c_msg.read(ADDRESS, n)
    bus.i2c_rdwr(i2c_msg.write(ADDRESS, [register]), reply)
    return list(reply)


def read_block(bus: SimSMBus, register: int, n: int) -> list[int]:
    return bus.read_i2c_block_data(ADDRESS, register, n)


READS: tuple[Callable[[SimSMBus, int, int], list[int]], ...] = (read_rdwr, read_block)


def rig() -> tuple[SimSMBus, Registers]:
    bus, chip = SimSMBus(seed=1), Registers()
    bus.add_device(ADDRESS, chip)
    bus.add_device(OTHER, Registers())
    return bus, chip


def count_general_path(bus: SimSMBus) -> list[int]:
    """From now on, count the transfers that take the general path (``_begin``) in [0]."""
    count = [0]
    begin = bus._begin

    def counted(address: int) -> None:
        count[0] += 1
        begin(address)

    bus._begin = counted  # type: ignore[method-assign]
    return count


def nacked(action: Callable[[], object]) -> bool:
    try:
        action()
    except OSError as exc:
        assert exc.errno == errno.EREMOTEIO
        return True
    return False


@pytest.mark.parametrize("read", READS)
def test_faults_injected_after_quiet_transfers_act_on_the_next_one(
        read: Callable[[SimSMBus, int, int], list[int]]) -> None:
    bus, chip = rig()
    assert read(bus, 0x10, 2) == [0x10, 0x11]  # quiet: straight to the chip
    bus.write_i2c_block_data(ADDRESS, 0x10, [0xAA, 0xBB])
    assert read(bus, 0x10, 2) == [0xAA, 0xBB]

    bus.inject(ADDRESS, "absent")
    assert nacked(lambda: read(bus, 0x10, 2))
    assert nacked(lambda: bus.write_i2c_block_data(ADDRESS, 0x10, [1]))
    bus.clear(ADDRESS)
    assert read(bus, 0x10, 2) == [0xAA, 0xBB]

    bus.inject(ADDRESS, "stuck")  # the last answer, whatever is asked; writes ignored
    bus.write_i2c_block_data(ADDRESS, 0x20, [0x55])
    assert read(bus, 0x20, 2) == [0xAA, 0xBB]
    bus.clear(ADDRESS)
    assert read(bus, 0x20, 1) == [0x20]  # the stuck write never reached the chip

    bus.inject(ADDRESS, "nack_next:1")
    assert nacked(lambda: read(bus, 0x10, 1))
    assert read(bus, 0x10, 1) == [0xAA]  # recovered, on the general path (count spent)
    bus.clear(ADDRESS)

    bus.inject(OTHER, "garbage")  # a fault elsewhere: this chip's transfers still correct
    assert read(bus, 0x11, 1) == [0xBB]
    bus.clear(OTHER)

    assert bus.transfers[ADDRESS] == 12 and bus.nacks[ADDRESS] == 3
    calls, general = chip.calls, count_general_path(bus)
    assert read(bus, 0x10, 2) == [0xAA, 0xBB]  # quiet again: one write, one read, directly
    assert chip.calls == calls + 2 and bus.transfers[ADDRESS] == 13
    assert general == [0]

    bus.close()
    with pytest.raises(OSError) as raised:
        read(bus, 0x10, 1)
    assert raised.value.errno == errno.EBADF
    with pytest.raises(OSError):
        bus.write_i2c_block_data(ADDRESS, 0x10, [1])


def test_a_chip_added_or_removed_while_quiet_is_seen_at_once() -> None:
    bus, _ = rig()
    bus.remove_device(ADDRESS)
    assert nacked(lambda: read_rdwr(bus, 0x10, 1))
    assert nacked(lambda: read_block(bus, 0x10, 1))
    bus.add_device(ADDRESS, Registers())
    assert read_rdwr(bus, 0x10, 1) == [0x10]
    assert read_block(bus, 0x11, 1) == [0x11]
