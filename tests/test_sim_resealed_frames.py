"""The simulated inverter's frames of unchanged content, sealed once per alive counter value
(``hal/sim/resealed_frames.py``): every frame on the wire is the frame the codec encodes for
what it carries, through content changes, counter wrap-arounds and a new settings set."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import can
import pytest

from controller.links.inverter_settings import inverter_settings_from_config
from hal.errors import ProtocolError
from hal.protocols.e2e import AliveCounter
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    COUNTER_MASK,
    INV_STATUS_ID,
    SETTINGS_READBACK_IDS,
    SETTINGS_SLOTS,
    SETTINGS_WRITE_IDS,
    STATUS_FRAME_IDS,
)
from hal.protocols.inverter_messages import InverterSettings, InverterState, InverterStatus
from hal.sim.inverter_port import SimInverterPort
from hal.sim.resealed_frames import ResealedFrames
from tests.harness import parsed_config

CODEC = InverterCodec()
STATUS = InverterStatus(
    state=InverterState.GRID_FOLLOWING, dc_voltage_v=380.4, dc_current_a=-12.3,
    ac_power_w=-4800.0, ac_voltage_v=231.2, ac_frequency_hz=50.02, reactive_power_var=-150.0,
    temperature_c=41.0, fault_word=0, warning_word=3)
READBACK_CYCLE_S = CODEC.cycle_time_s(SETTINGS_READBACK_IDS[-1])


class Wire:
    """The simulated inverter on a virtual channel of its own, with an end that sees its frames
    and injects settings frames."""

    def __init__(self) -> None:
        channel = f"test-{uuid.uuid4().hex}"
        self.port_bus = can.Bus(interface="virtual", channel=channel)
        self.observer = can.Bus(interface="virtual", channel=channel)
        self.port = SimInverterPort(self.port_bus, CODEC)
        self._counters = {frame_id: AliveCounter() for frame_id in SETTINGS_WRITE_IDS}

    def frames(self) -> list[tuple[int, bytes]]:
        out = []
        while (message := self.observer.recv(timeout=0)) is not None:
            out.append((message.arbitration_id, bytes(message.data)))
        return out

    def apply(self, settings: InverterSettings, now: float) -> None:
        """Send ``settings`` (nine frames, a counter per frame ID) and let the port take them."""
        for write_id, page in SETTINGS_SLOTS:
            data = CODEC.encode_settings_frame(write_id, page, settings,
                                               self._counters[write_id].advance())
            self.observer.send(can.Message(arbitration_id=write_id, data=data,
                                           is_extended_id=False))
        self.port.receive(now)
        self.frames()  # nothing of the port's yet; clears the observer's own echo, if any


@pytest.fixture
def wire() -> Iterator[Wire]:
    rig = Wire()
    yield rig
    rig.port_bus.shutdown()
    rig.observer.shutdown()


def _status_sequence() -> list[InverterStatus]:
    """Statuses that hold (longer than 16 counter values), change by less than a frame's
    resolution (the same frames), and change what the frames carry, frame by frame."""
    held = [STATUS] * 40
    below_resolution = [dataclasses.replace(STATUS, dc_voltage_v=380.4 + 1e-4 * i)
                        for i in range(20)]
    power_steps = [dataclasses.replace(STATUS, ac_power_w=-4800.0 + 100.0 * (i // 3))
                   for i in range(30)]
    temperature = [dataclasses.replace(STATUS, temperature_c=41.0 + (i // 5))
                   for i in range(25)]
    fault = [dataclasses.replace(STATUS, fault_word=0x10)] * 20
    return held + below_resolution + power_steps + temperature + fault + held


def test_every_status_frame_is_the_encoding_of_the_clamped_status(wire: Wire) -> None:
    now = 0.0
    sent = 0
    for status in _status_sequence():
        wire.port.publish(now, status)
        for frame_id, data in wire.frames():
            counter = data[0] & COUNTER_MASK
            assert data == CODEC.encode_status_frame(
                frame_id, CODEC.clamp_status(status), counter), (now, hex(frame_id))
            sent += 1
        now += 1.0  # every status frame is due each 1 Hz step
    assert sent == 3 * len(_status_sequence())


def test_status_counters_still_advance_by_one_per_frame(wire: Wire) -> None:
    last: dict[int, int] = {}
    for step in range(40):  # the same content: 40 frames per ID, counters wrap twice
        wire.port.publish(float(step), STATUS)
        for frame_id, data in wire.frames():
            counter = data[0] & COUNTER_MASK
            if frame_id in last:
                assert counter == (last[frame_id] + 1) % (COUNTER_MASK + 1)
            last[frame_id] = counter
    assert set(last) == set(STATUS_FRAME_IDS)


def test_every_readback_frame_is_the_encoding_of_the_applied_settings(wire: Wire) -> None:
    first = inverter_settings_from_config(parsed_config({}))
    second = dataclasses.replace(first, ov1_clearing_time_s=first.ov1_clearing_time_s + 1.0)
    now = 0.0
    wire.apply(first, now)
    bursts = 0
    for settings, cycles in ((first, 20), (second, 20)):  # 20 bursts: counters wrap
        if settings is second:
            wire.apply(second, now)
        for _ in range(cycles):
            wire.port.publish(now, STATUS)
            readback = [(i, d) for i, d in wire.frames() if i in SETTINGS_READBACK_IDS]
            assert len(readback) == len(SETTINGS_SLOTS)
            for (write_id, page), (frame_id, data) in zip(SETTINGS_SLOTS, readback,
                                                          strict=True):
                assert frame_id == SETTINGS_READBACK_IDS[SETTINGS_WRITE_IDS.index(write_id)]
                assert data == CODEC.encode_settings_frame(
                    frame_id, page, settings, data[0] & COUNTER_MASK), (now, hex(frame_id))
            bursts += 1
            now += READBACK_CYCLE_S
    assert bursts == 40 and wire.port.readbacks_sent == 40


def test_each_counter_value_is_sealed_once_and_matches_the_codec() -> None:
    frames = ResealedFrames(CODEC.reseal)
    assert frames.frame(INV_STATUS_ID, 3) is None  # nothing held
    encoded = CODEC.encode_status_frame(INV_STATUS_ID, STATUS, 3)
    frames.hold(INV_STATUS_ID, INV_STATUS_ID, 3, encoded)
    for counter in list(range(16)) * 3:
        assert frames.frame(INV_STATUS_ID, counter) == CODEC.encode_status_frame(
            INV_STATUS_ID, STATUS, counter)
    assert frames.reseals == 15  # the held frame's own counter needs none
    with pytest.raises(ProtocolError, match="AliveCounter 16"):
        frames.frame(INV_STATUS_ID, 16)  # the codec's check still runs, nothing is kept
    assert frames.reseals == 15
    frames.clear()
    assert frames.frame(INV_STATUS_ID, 3) is None
