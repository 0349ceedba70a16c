"""The simulator's CAN wire delivers exactly what python-can's virtual bus delivers."""

from __future__ import annotations

import uuid

import can
import pytest

from hal.sim.can_bus import SimVirtualBus, data_frame


def _deliveries(make: type[can.BusABC]) -> list[tuple[object, ...]]:
    channel = f"test-{uuid.uuid4()}"
    sender = make(channel=channel, preserve_timestamps=True)
    a, b = make(channel=channel), make(channel=channel)
    try:
        for frame in (can.Message(arbitration_id=0x123, data=[1, 2, 3], is_extended_id=False,
                                  timestamp=5.0),
                      can.Message(arbitration_id=0x1ABCDEF, data=b"", is_extended_id=True,
                                  timestamp=6.0),
                      can.Message(arbitration_id=0x040, is_error_frame=True, dlc=8,
                                  data=bytes(8), timestamp=7.0)):
            sender.send(frame)
        got = []
        for bus in (a, b, sender):
            while (m := bus.recv(timeout=0.0)) is not None:
                got.append((bus is sender, m.timestamp, m.arbitration_id, m.is_extended_id,
                            m.is_error_frame, m.dlc, bytes(m.data), m.channel, m.is_rx))
        return got
    finally:
        for bus in (sender, a, b):
            bus.shutdown()


def test_same_frames_as_python_cans_virtual_bus() -> None:
    ours = _deliveries(SimVirtualBus)
    theirs = _deliveries(can.interfaces.virtual.VirtualBus)
    strip = [(*row[:7], row[8]) for row in ours]  # the channel ids differ by construction
    assert strip == [(*row[:7], row[8]) for row in theirs]
    assert len(ours) == 6 and not any(row[0] for row in ours)  # own frames are not echoed


def test_each_listener_gets_its_own_copy_and_a_bounded_queue_refuses() -> None:
    channel = f"test-{uuid.uuid4()}"
    sender, listener = SimVirtualBus(channel), SimVirtualBus(channel, rx_queue_size=1)
    try:
        frame = can.Message(arbitration_id=1, data=[9], is_extended_id=False)
        sender.send(frame)
        frame.data[0] = 0  # the sender reusing its buffer does not change what was sent
        assert bytes(listener.recv(timeout=0.0).data) == b"\x09"
        sender.send(frame)
        with pytest.raises(can.CanOperationError):
            sender.send(frame)  # the listener's queue (size 1) is full
    finally:
        sender.shutdown()
        listener.shutdown()



def _filtered(make: type[can.BusABC]) -> list[int]:
    channel = f"test-{uuid.uuid4()}"
    sender = make(channel=channel)
    listener = make(channel=channel, can_filters=[{"can_id": 0x100, "can_mask": 0x7FF}])
    try:
        for arbitration_id in (0x100, 0x101, 0x100, 0x100):
            sender.send(can.Message(arbitration_id=arbitration_id, is_extended_id=False))
        got = []
        for _ in range(6):  # recv(timeout=0) gives up at a filtered-out frame: call it again
            m = listener.recv(timeout=0.0)
            if m is not None:
                got.append(m.arbitration_id)
        return got
    finally:
        sender.shutdown()
        listener.shutdown()


def test_filters_apply_as_on_python_cans_virtual_bus() -> None:
    assert _filtered(SimVirtualBus) == _filtered(can.interfaces.virtual.VirtualBus)
    assert _filtered(SimVirtualBus) == [0x100, 0x100, 0x100]


@pytest.mark.parametrize("data", [b"", b"\x01", bytes(range(8))])
def test_a_simulated_senders_frame_is_the_constructors(data: bytes) -> None:
    ours, theirs = data_frame(0x1A5, data), can.Message(arbitration_id=0x1A5, data=data,
                                                        is_extended_id=False)
    fields = set(can.Message.__slots__) - {"__weakref__"}
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert type(ours.data) is bytearray and ours.data is not data
