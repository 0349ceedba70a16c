"""CAN protocols: DBC files, E2E checks, codecs, the controller links and the simulated peers.

Every bus is a python-can virtual bus on a channel name unique to the test; a third bus on the
same channel injects raw (bad) frames.
"""

from __future__ import annotations

import dataclasses
import math
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import can
import cantools
import pytest
from cantools.database.can import Database as CanDatabase
from hypothesis import given
from hypothesis import strategies as st

from controller.links import EvLink, InverterLink
from hal.can_link import PythonCanLink, open_python_can
from hal.errors import HalIOError, HalSetupError, ProtocolError
from hal.protocols import dbc_path
from hal.protocols.chademo_codec import (
    EV_BATTERY_LIMITS_ID,
    EV_CHARGE_STATUS_ID,
    EV_DISCHARGE_LIMITS_ID,
    VEHICLE_FRAME_IDS,
    ChademoCodec,
    ChademoVehicleDecoder,
)
from hal.protocols.dbc_frames import FrameError
from hal.protocols.e2e import (
    CRC8_CHECK,
    CRC_BYTE,
    AliveCounter,
    CounterMonitor,
    counter_progress_ok,
    crc8_for_frame,
    crc8_sae_j1850,
    crc_ok,
    seal_frame,
)
from hal.protocols.ev_messages import EvReport
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    INV_CMD_ID,
    INV_FAULT_ID,
    INV_STATUS2_ID,
    INV_STATUS_ID,
    CommandFrame,
    FaultFrame,
    Status2Frame,
    StatusFrame,
)
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterState,
    InverterStatus,
)
from hal.sim.ev_port import SimEvPort
from hal.sim.inverter_port import SimInverterPort

CODEC = InverterCodec()
CHADEMO = ChademoCodec()
TICK_S = 0.02

STATUS = InverterStatus(
    state=InverterState.GRID_FOLLOWING,
    dc_voltage_v=380.4,
    dc_current_a=-12.3,
    ac_power_w=-4800.0,
    ac_voltage_v=231.2,
    ac_frequency_hz=50.02,
    reactive_power_var=-150.0,
    temperature_c=41.0,
    fault_word=0,
    warning_word=0x0003,
)
CHARGE = InverterCommand(InverterMode.GRID_FOLLOWING, True, 3500.0, 0.0, 16.0, 16.0)
REPORT = EvReport(
    soc_pct=55.0,
    capacity_kwh=40.0,
    min_battery_voltage_v=250.0,
    max_battery_voltage_v=410.0,
    target_voltage_v=400.0,
    charge_current_request_a=100.0,
    max_discharge_current_a=15.0,
    min_discharge_voltage_v=250.0,
    min_discharge_soc_pct=20.0,
    charging_enabled=True,
    discharge_compatible=True,
    fault_flags=0,
    protocol_number=2,
)

BusFactory = Callable[[], can.BusABC]


VCAN = os.environ.get("V2X_TEST_VCAN", "vcan0")


@pytest.fixture(params=["virtual", "socketcan"])
def new_bus(request: pytest.FixtureRequest) -> Iterator[BusFactory]:
    """Buses on one channel, all shut down afterwards: python-can's virtual bus (a channel
    unique to the test) always, and a Linux vcan interface when one exists (create it with
    ``ip link add dev vcan0 type vcan && ip link set vcan0 up``; V2X_TEST_VCAN names another)."""
    interface: str = request.param
    if interface == "socketcan" and not Path(f"/sys/class/net/{VCAN}").exists():
        pytest.skip(f"no {VCAN} interface here (needs the vcan kernel module); the same "
                    "test ran on the python-can virtual bus")
    channel = f"test-{uuid.uuid4().hex}" if interface == "virtual" else VCAN
    buses: list[can.BusABC] = []

    def make() -> can.BusABC:
        bus = can.Bus(interface=interface, channel=channel)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.shutdown()


def raw_send(bus: can.BusABC, frame_id: int, data: bytes) -> None:
    bus.send(can.Message(arbitration_id=frame_id, data=data, is_extended_id=False))


def drain(bus: can.BusABC) -> list[can.Message]:
    messages = []
    while (message := bus.recv(timeout=0)) is not None:
        messages.append(message)
    return messages


# --- DBC files ---------------------------------------------------------------------------------


def load_can_database(name: str) -> CanDatabase:
    db = cantools.database.load_file(str(dbc_path(name)))
    assert isinstance(db, CanDatabase)
    return db


def test_inverter_dbc_loads_with_ids_cycles_nodes_comments_and_value_tables() -> None:
    db = load_can_database("inverter")
    assert {node.name for node in db.nodes} == {"CTRL", "INV"}
    expected = {INV_CMD_ID: 20, INV_STATUS_ID: 20, INV_STATUS2_ID: 100, INV_FAULT_ID: 100}
    for frame_id, cycle_ms in expected.items():
        message = db.get_message_by_frame_id(frame_id)
        assert message.length == 8
        assert not message.is_extended_frame
        assert message.cycle_time == cycle_ms
        assert message.comment
        assert message.senders == (["CTRL"] if frame_id == INV_CMD_ID else ["INV"])
        for signal in message.signals:
            assert signal.comment, f"{message.name}.{signal.name} has no comment"
            assert signal.byte_order == "little_endian"
            assert signal.minimum is not None and signal.maximum is not None
        assert message.get_signal_by_name("AliveCounter").start == 0
        assert message.get_signal_by_name("Crc8").start == 56
    cmd = db.get_message_by_frame_id(INV_CMD_ID)
    assert cmd.get_signal_by_name("Mode").choices == {
        0: "OFF",
        1: "GRID_FOLLOWING",
        2: "GRID_FORMING",
    }
    state_choices = db.get_message_by_frame_id(INV_STATUS_ID).get_signal_by_name("State").choices
    assert state_choices is not None
    assert [str(v) for v in state_choices.values()] == [s.name for s in InverterState]


def test_chademo_dbc_loads_with_vehicle_and_charger_frames() -> None:
    db = load_can_database("chademo")
    assert {node.name for node in db.nodes} == {"EV", "CHARGER"}
    for frame_id in (*VEHICLE_FRAME_IDS, 0x108, 0x109):
        message = db.get_message_by_frame_id(frame_id)
        assert message.cycle_time == 100
        assert message.comment
        assert message.senders == (["EV"] if frame_id in VEHICLE_FRAME_IDS else ["CHARGER"])
        assert all(signal.comment for signal in message.signals)


# --- E2E ---------------------------------------------------------------------------------------


def test_crc8_sae_j1850_check_value() -> None:
    assert crc8_sae_j1850(b"123456789") == CRC8_CHECK == 0x4B


def test_crc_covers_the_frame_id_and_seven_bytes() -> None:
    payload = bytes(range(7))
    assert crc8_for_frame(0x100, payload) == crc8_sae_j1850(b"\x00\x01" + payload)
    assert crc8_for_frame(0x100, payload) != crc8_for_frame(0x180, payload)
    sealed = seal_frame(0x100, payload + b"\x00")
    assert crc_ok(0x100, sealed)
    assert not crc_ok(0x180, sealed)
    assert not crc_ok(0x100, sealed[:7])
    with pytest.raises(ValueError):
        crc8_for_frame(0x100, payload[:6])


def test_alive_counter_wraps_and_progress_rules() -> None:
    counter = AliveCounter(start=14)
    assert [counter.advance() for _ in range(3)] == [15, 0, 1]
    assert counter_progress_ok(15, 0)
    assert counter_progress_ok(15, 1)
    assert not counter_progress_ok(15, 2)
    assert not counter_progress_ok(7, 7)
    assert counter_progress_ok(3, 6, max_step=3)


def test_counter_monitor_refuses_frozen_and_resyncs_after_one_jump() -> None:
    monitor = CounterMonitor()
    assert monitor.check("a", 5)  # first frame: nothing to compare with
    assert monitor.check("a", 6)
    assert not monitor.check("a", 6)  # repeated
    assert not monitor.check("a", 6)  # still frozen
    assert monitor.check("a", 7)
    assert not monitor.check("a", 12)  # a jump costs exactly one frame
    assert monitor.check("a", 13)
    assert monitor.check("b", 0)  # sequences are per key


# --- inverter codec ----------------------------------------------------------------------------

setpoints = st.floats(min_value=-32000.4, max_value=32000.4, allow_nan=False)
limits = st.floats(min_value=0.0, max_value=250.9, allow_nan=False)


@given(
    mode=st.sampled_from(InverterMode),
    enable=st.booleans(),
    p=setpoints,
    q=setpoints,
    charge=limits,
    discharge=limits,
    counter=st.integers(0, 15),
)
def test_command_round_trip(
    mode: InverterMode,
    enable: bool,
    p: float,
    q: float,
    charge: float,
    discharge: float,
    counter: int,
) -> None:
    frame_id, data = CODEC.encode_command(
        InverterCommand(mode, enable, p, q, charge, discharge), counter
    )
    assert frame_id == INV_CMD_ID and len(data) == 8 and crc_ok(frame_id, data)
    assert data[0] & 0x0F == counter
    decoded = CODEC.decode_command(frame_id, data)
    assert decoded == CommandFrame(
        counter,
        InverterCommand(
            mode, enable, round(p), round(q), math.floor(charge), math.floor(discharge)
        ),
    )


@given(
    state=st.sampled_from(InverterState),
    v_dc=st.integers(0, 10000),
    i_dc=st.integers(-3000, 3000),
    p_ac=st.integers(-32000, 32000),
    v_ac=st.integers(0, 4095),
    f_ac=st.integers(0, 10000),
    q_ac=st.integers(-32000, 32000),
    temp=st.integers(-40, 215),
    fault=st.integers(0, 0xFFFF),
    warning=st.integers(0, 0xFFFF),
    counter=st.integers(0, 15),
)
def test_status_round_trip(
    state: InverterState,
    v_dc: int,
    i_dc: int,
    p_ac: int,
    v_ac: int,
    f_ac: int,
    q_ac: int,
    temp: int,
    fault: int,
    warning: int,
    counter: int,
) -> None:
    status = InverterStatus(
        state, v_dc / 10, i_dc / 10, p_ac, v_ac / 10, f_ac / 100, q_ac, temp, fault, warning
    )
    frames = dict(CODEC.encode_status(status, counter))
    assert sorted(frames) == [INV_STATUS_ID, INV_STATUS2_ID, INV_FAULT_ID]
    for frame_id, data in frames.items():
        assert len(data) == 8 and crc_ok(frame_id, data) and data[0] & 0x0F == counter
    assert CODEC.decode_status(INV_STATUS_ID, frames[INV_STATUS_ID]) == StatusFrame(
        counter, state, v_dc / 10, i_dc / 10, p_ac
    )
    assert CODEC.decode_status(INV_STATUS2_ID, frames[INV_STATUS2_ID]) == Status2Frame(
        counter, v_ac / 10, f_ac / 100, q_ac, temp
    )
    assert CODEC.decode_status(INV_FAULT_ID, frames[INV_FAULT_ID]) == FaultFrame(
        counter, fault, warning
    )


@pytest.mark.parametrize(
    ("command", "signal"),
    [
        (InverterCommand(InverterMode.GRID_FOLLOWING, True, 40000.0, 0.0, 0.0, 0.0), "P_Set"),
        (InverterCommand(InverterMode.GRID_FOLLOWING, True, -32001.0, 0.0, 0.0, 0.0), "P_Set"),
        (InverterCommand(InverterMode.GRID_FOLLOWING, True, math.nan, 0.0, 0.0, 0.0), "P_Set"),
        (InverterCommand(InverterMode.GRID_FOLLOWING, True, 0.0, -40000.0, 0.0, 0.0), "Q_Set"),
        (
            InverterCommand(InverterMode.GRID_FOLLOWING, True, 0.0, 0.0, 251.0, 0.0),
            "I_DcChargeLimit",
        ),
        (InverterCommand(InverterMode.OFF, False, 0.0, 0.0, 0.0, -1.0), "I_DcDischargeLimit"),
    ],
)
def test_out_of_range_command_raises_naming_the_signal(
    command: InverterCommand, signal: str
) -> None:
    with pytest.raises(ProtocolError, match=signal):
        CODEC.encode_command(command, 0)


def test_current_limits_are_floored_and_setpoints_rounded() -> None:
    command = InverterCommand(InverterMode.GRID_FOLLOWING, True, 1234.6, -0.4, 10.7, 249.99)
    decoded = CODEC.decode_command(*CODEC.encode_command(command, 1)).command
    assert (decoded.p_set_w, decoded.q_set_var) == (1235.0, 0.0)
    assert (decoded.dc_charge_limit_a, decoded.dc_discharge_limit_a) == (10.0, 249.0)


def test_decode_reports_specific_reasons() -> None:
    data = CODEC.encode_status_frame(INV_STATUS_ID, STATUS, 3)
    with pytest.raises(FrameError, match="wrong length 7") as short:
        CODEC.decode_status(INV_STATUS_ID, data[:7])
    assert short.value.reason == "bad_length"
    corrupted = data[:7] + bytes([data[7] ^ 0x01])
    with pytest.raises(FrameError, match="bad CRC") as bad_crc:
        CODEC.decode_status(INV_STATUS_ID, corrupted)
    assert bad_crc.value.reason == "bad_crc"
    with pytest.raises(FrameError, match="bad CRC"):
        CODEC.decode_status(INV_STATUS2_ID, data)  # right payload, wrong ID
    over_voltage = seal_frame(INV_STATUS_ID, data[:1] + (10001).to_bytes(2, "little") + data[3:])
    with pytest.raises(FrameError, match=r"out of range: V_Dc=1000\.1") as oor:
        CODEC.decode_status(INV_STATUS_ID, over_voltage)
    assert oor.value.reason == "out_of_range"
    bad_state = seal_frame(INV_STATUS_ID, bytes([0x53]) + data[1:])  # State = 5
    with pytest.raises(FrameError, match="State=5"):
        CODEC.decode_status(INV_STATUS_ID, bad_state)
    with pytest.raises(FrameError) as unknown:
        CODEC.decode_status(0x183, data)
    assert unknown.value.reason == "unknown_id"


def test_clamp_status_saturates_to_full_scale() -> None:
    wild = InverterStatus(InverterState.FAULT, 1200.0, -400.0, 50000.0, 500.0, 120.0, 0, -60, 1, 0)
    clamped = CODEC.clamp_status(wild)
    assert (clamped.dc_voltage_v, clamped.dc_current_a, clamped.ac_power_w) == (
        1000.0,
        -300.0,
        32000.0,
    )
    assert (clamped.ac_voltage_v, clamped.ac_frequency_hz, clamped.temperature_c) == (
        409.5,
        100.0,
        -40.0,
    )
    CODEC.encode_status(clamped, 0)  # encodable


def test_reseal_gives_the_frame_an_encoder_would_give_with_that_counter() -> None:
    for frame_id in (INV_STATUS_ID, INV_STATUS2_ID, INV_FAULT_ID):
        first = CODEC.encode_status_frame(frame_id, STATUS, 3)
        for counter in range(16):
            assert CODEC.reseal(frame_id, first, counter) == CODEC.encode_status_frame(
                frame_id, STATUS, counter)
    with pytest.raises(ProtocolError, match="AliveCounter 16"):
        CODEC.reseal(INV_STATUS_ID, first, 16)


# --- python-can link ---------------------------------------------------------------------------


def test_python_can_link_sends_receives_and_closes(new_bus: BusFactory) -> None:
    link = PythonCanLink(new_bus(), "can0")
    peer = new_bus()
    link.send(0x123, b"\x01\x02")
    (message,) = drain(peer)
    assert (message.arbitration_id, bytes(message.data), message.is_extended_id) == (
        0x123,
        b"\x01\x02",
        False,
    )
    for i in range(5):
        raw_send(peer, 0x200 + i, bytes([i]))
    first = link.receive(max_frames=3)
    assert [f.arbitration_id for f in first] == [0x200, 0x201, 0x202]
    assert [f.arbitration_id for f in link.receive()] == [0x203, 0x204]
    assert link.receive() == []
    peer.send(can.Message(is_error_frame=True, arbitration_id=0x4, data=b"\x00" * 8))
    (error,) = link.receive()
    assert error.is_error_frame
    link.close()
    link.close()  # idempotent
    with pytest.raises(HalIOError, match="can0"):
        link.send(0x123, b"")


def test_python_can_link_send_failure_names_channel_and_frame(new_bus: BusFactory) -> None:
    bus = new_bus()
    link = PythonCanLink(bus, "can0")
    bus.shutdown()
    with pytest.raises(HalIOError, match=r"can0 .*0x100") as failure:
        link.send(0x100, b"\x00")
    assert isinstance(failure.value.__cause__, can.CanError)


def test_open_python_can_with_unknown_interface_is_a_setup_error() -> None:
    with pytest.raises(HalSetupError) as failure:
        open_python_can("no_such_interface", "can7", "inverter")
    message = str(failure.value)
    assert "'no_such_interface'" in message and "'can7'" in message and "\n" not in message
    assert "Unknown interface" in message


def test_open_python_can_opens_a_virtual_bus() -> None:
    link = open_python_can("virtual", f"test-{uuid.uuid4().hex}", "inverter")
    assert link.name == "inverter"
    link.close()


# --- controller InverterLink <-> SimInverterPort -----------------------------------------------


class InverterRig:
    """Controller link, simulated inverter and a raw injector on one virtual channel."""

    def __init__(self, new_bus: BusFactory) -> None:
        self.controller_bus = new_bus()
        self.link = InverterLink(PythonCanLink(self.controller_bus, "can0"), CODEC)
        self.port = SimInverterPort(new_bus(), CODEC)
        self.injector = new_bus()

    def tick(self, now: float, command: InverterCommand = CHARGE) -> None:
        """One controller tick and one inverter step."""
        assert self.link.send(command)
        self.port.receive(now)
        self.port.publish(now, STATUS)
        self.link.poll(now)
        drain(self.injector)


@pytest.fixture
def rig(new_bus: BusFactory) -> InverterRig:
    return InverterRig(new_bus)


def test_command_arrives_and_status_flows_back(rig: InverterRig) -> None:
    before = rig.link.status
    assert before is None
    assert rig.port.command(0.0) is None
    rig.tick(0.0)
    assert rig.port.command(0.0) == CHARGE
    assert rig.link.status == STATUS
    assert rig.link.comm_ok(0.0)
    assert rig.port.accepted_commands == 1
    assert all(count == 0 for count in rig.link.counters.values())
    assert all(count == 0 for count in rig.port.rejected.values())


def test_status_is_assembled_from_the_fast_frame_first(rig: InverterRig) -> None:
    raw_send(rig.injector, INV_STATUS_ID, CODEC.encode_status_frame(INV_STATUS_ID, STATUS, 1))
    rig.link.poll(0.0)
    status = rig.link.status
    assert status is not None
    assert status.dc_voltage_v == STATUS.dc_voltage_v
    assert (status.ac_voltage_v, status.fault_word) == (0.0, 0)  # documented defaults
    assert rig.link.frame_age(INV_STATUS2_ID, 0.0) == math.inf


def test_status_frames_follow_their_cycle_times(rig: InverterRig) -> None:
    sent: list[int] = []
    for step in range(50):  # 0.25 s in 5 ms plant steps
        rig.port.publish(step * 0.005, STATUS)
        sent += [m.arbitration_id for m in drain(rig.injector)]
    assert sent.count(INV_STATUS_ID) == 13  # t = 0, 0.02, ..., 0.24
    assert sent.count(INV_STATUS2_ID) == 3  # t = 0, 0.1, 0.2
    assert sent.count(INV_FAULT_ID) == 3


def _corrupt_crc(frame: bytes) -> bytes:
    return frame[:7] + bytes([frame[7] ^ 0x5A])


def _truncate(frame: bytes) -> bytes:
    return frame[:7]


def _p_ac_out_of_range(frame: bytes) -> bytes:
    p_ac = (-32768).to_bytes(2, "little", signed=True)
    return seal_frame(INV_STATUS_ID, frame[:5] + p_ac + frame[7:])


@pytest.mark.parametrize(
    ("reason", "spoil"),
    [("bad_crc", _corrupt_crc), ("bad_length", _truncate), ("out_of_range", _p_ac_out_of_range)],
)
def test_bad_status_frames_are_counted_and_dropped(
    rig: InverterRig, reason: str, spoil: Callable[[bytes], bytes]
) -> None:
    rig.tick(0.0)
    changed = dataclasses.replace(STATUS, dc_voltage_v=999.0)
    next_frame = CODEC.encode_status_frame(INV_STATUS_ID, changed, 2)  # counter would be fine
    raw_send(rig.injector, INV_STATUS_ID, spoil(next_frame))
    rig.link.poll(0.01)
    assert rig.link.counters[reason] == 1
    assert sum(rig.link.counters.values()) == 1
    assert rig.link.status == STATUS
    assert rig.link.status_age(0.01) == pytest.approx(0.01)


def test_repeated_status_counter_is_counted_and_dropped(rig: InverterRig) -> None:
    rig.tick(0.0)
    changed = dataclasses.replace(STATUS, dc_voltage_v=999.0)
    repeated = CODEC.encode_status_frame(INV_STATUS_ID, changed, 1)  # the port's counter again
    raw_send(rig.injector, INV_STATUS_ID, repeated)
    rig.link.poll(0.01)
    assert rig.link.counters["bad_counter"] == 1
    assert rig.link.status == STATUS


def test_unknown_ids_and_error_frames_are_counted(rig: InverterRig) -> None:
    raw_send(rig.injector, 0x7DF, b"\x02\x01\x00\x00\x00\x00\x00\x00")
    error = can.Message(is_error_frame=True, arbitration_id=0x40, data=bytes(8))
    rig.injector.send(error)
    rig.link.poll(0.0)
    assert rig.link.counters["unknown_id"] == 1
    assert rig.link.counters["error_frames"] == 1
    assert rig.link.last_error_frame is not None
    assert rig.link.status is None


def test_status_goes_stale_after_stale_after_s(rig: InverterRig) -> None:
    assert rig.link.status_age(0.0) == math.inf
    assert not rig.link.comm_ok(0.0)
    rig.tick(0.0)
    rig.link.poll(0.1)
    assert rig.link.comm_ok(0.1)
    rig.link.poll(0.1001)
    assert not rig.link.comm_ok(0.1001)
    assert rig.link.status_age(0.5) == pytest.approx(0.5)


def test_inverter_command_times_out_when_the_controller_stops_sending(rig: InverterRig) -> None:
    rig.tick(0.0)
    rig.port.receive(0.1)
    assert rig.port.command(0.1) == CHARGE
    rig.port.receive(0.1001)
    assert rig.port.command(0.1001) is None


def test_inverter_command_times_out_when_the_controller_counter_freezes(rig: InverterRig) -> None:
    assert rig.link.send(CHARGE)
    (last,) = drain(rig.injector)
    rig.port.receive(0.0)
    assert rig.port.command(0.0) == CHARGE
    # A hung loop whose last frame keeps being re-sent (e.g. by a kernel periodic task).
    now, replays = 0.0, 0
    while now < 0.3:
        now += TICK_S
        raw_send(rig.injector, last.arbitration_id, bytes(last.data))
        replays += 1
        rig.port.receive(now)
    assert rig.port.command(now) is None
    assert rig.port.rejected["bad_counter"] == replays


def test_inverter_rejects_bad_command_frames(rig: InverterRig) -> None:
    _, good = CODEC.encode_command(CHARGE, 1)
    raw_send(rig.injector, INV_CMD_ID, good[:6])
    raw_send(rig.injector, INV_CMD_ID, good[:7] + bytes([good[7] ^ 1]))
    bad_mode = seal_frame(INV_CMD_ID, bytes([0x31]) + good[1:])  # Mode = 3
    raw_send(rig.injector, INV_CMD_ID, bad_mode)
    rig.port.receive(0.0)
    assert rig.port.command(0.0) is None
    assert rig.port.rejected["bad_length"] == 1
    assert rig.port.rejected["bad_crc"] == 1
    assert rig.port.rejected["out_of_range"] == 1


def test_injected_bad_crc(rig: InverterRig) -> None:
    rig.tick(0.0)
    rig.port.inject("bad_crc")
    rig.tick(TICK_S)
    assert rig.link.counters["bad_crc"] == 1
    assert rig.link.status_age(TICK_S) == pytest.approx(TICK_S)
    rig.port.clear()
    rig.tick(2 * TICK_S)
    assert rig.link.status_age(2 * TICK_S) == 0.0


def test_injected_frozen_counter_goes_stale(rig: InverterRig) -> None:
    rig.tick(0.0)
    rig.tick(TICK_S)
    rig.port.inject("frozen_counter")
    for step in range(2, 8):
        rig.tick(step * TICK_S)
    assert rig.link.counters["bad_counter"] == 6 + 2  # six INV_STATUS, one STATUS2, one FAULT
    assert not rig.link.comm_ok(7 * TICK_S)
    assert rig.port.command(7 * TICK_S) == CHARGE  # the inverter still hears the controller


def test_injected_silence_goes_stale(rig: InverterRig) -> None:
    rig.tick(0.0)
    rig.port.inject("silence")
    assert rig.port.faults == {"silence"}
    for step in range(1, 7):
        rig.tick(step * TICK_S)
    assert not rig.link.comm_ok(6 * TICK_S)
    rig.port.clear("silence")
    rig.tick(7 * TICK_S)
    assert rig.link.comm_ok(7 * TICK_S)
    with pytest.raises(ValueError, match="unknown inverter fault"):
        rig.port.inject("meltdown")


def test_send_on_a_shut_down_bus_returns_false_and_is_counted(rig: InverterRig) -> None:
    rig.controller_bus.shutdown()
    assert rig.link.send(CHARGE) is False
    assert rig.link.counters["send_failures"] == 1
    assert rig.link.last_send_error is not None and "0x100" in rig.link.last_send_error
    rig.link.poll(0.0)  # a dead bus is counted, never raised
    assert rig.link.counters["receive_failures"] == 1


def test_counter_advances_only_on_successful_sends(rig: InverterRig) -> None:
    counters = []
    for _ in range(3):
        rig.link.send(CHARGE)
        counters += [m.data[0] & 0x0F for m in drain(rig.injector)]
    with pytest.raises(ProtocolError, match="P_Set"):
        rig.link.send(InverterCommand(InverterMode.GRID_FOLLOWING, True, 1e6, 0.0, 0.0, 0.0))
    assert drain(rig.injector) == []
    rig.link.send(CHARGE)
    counters += [m.data[0] & 0x0F for m in drain(rig.injector)]
    assert counters == [1, 2, 3, 4]


# --- CHAdeMO -----------------------------------------------------------------------------------

volts = st.integers(0, 1000).map(float)
amps = st.integers(0, 255).map(float)
percent = st.integers(0, 100).map(float)


@given(
    soc=percent,
    capacity=st.integers(0, 10000).map(lambda raw: raw / 10),
    v_min=volts,
    v_max=volts,
    v_target=volts,
    i_request=amps,
    i_discharge=amps,
    v_discharge=volts,
    soc_min=percent,
    enabled=st.booleans(),
    compatible=st.booleans(),
    faults=st.integers(0, 0x1F),
    protocol=st.integers(0, 3),
)
def test_chademo_round_trip(
    soc: float,
    capacity: float,
    v_min: float,
    v_max: float,
    v_target: float,
    i_request: float,
    i_discharge: float,
    v_discharge: float,
    soc_min: float,
    enabled: bool,
    compatible: bool,
    faults: int,
    protocol: int,
) -> None:
    report = EvReport(
        soc,
        capacity,
        v_min,
        v_max,
        v_target,
        i_request,
        i_discharge,
        v_discharge,
        soc_min,
        enabled,
        compatible,
        faults,
        protocol,
    )
    frames = dict(CHADEMO.encode_vehicle_frames(report))
    assert sorted(frames) == sorted(VEHICLE_FRAME_IDS)
    assert frames[EV_DISCHARGE_LIMITS_ID][0] == 0xFF - int(i_discharge)  # inverted on the wire
    assert frames[EV_CHARGE_STATUS_ID][4] == faults
    decoder = ChademoVehicleDecoder(CHADEMO)
    for frame_id, data in frames.items():
        decoder.feed(frame_id, data, 0.0)
    assert decoder.report(0.0, 0.5) == report


def test_chademo_decodes_a_leaf_discharge_frame() -> None:
    values = CHADEMO.decode_vehicle_frame(0x200, bytes.fromhex("f0000000fa001400"))
    assert values["MaxDischargeCurrent"] == 15.0
    assert values["MinDischargeVoltage"] == 250.0


def test_chademo_soc_uses_the_reference_constant() -> None:
    frames = dict(CHADEMO.encode_vehicle_frames(REPORT))
    limits = bytearray(frames[EV_BATTERY_LIMITS_ID])
    limits[6] = 200
    decoder = ChademoVehicleDecoder(CHADEMO)
    for frame_id, data in {**frames, EV_BATTERY_LIMITS_ID: bytes(limits)}.items():
        decoder.feed(frame_id, data, 0.0)
    report = decoder.report(0.0, 0.5)
    assert report is not None and report.soc_pct == pytest.approx(27.5)


def test_chademo_report_needs_three_fresh_frames_and_0x200_for_discharge() -> None:
    """0x100, 0x101 and 0x102 make a report; without a fresh 0x200 (a charge-only car, or the
    placeholders the DBC ranges reject) it offers no discharge (issue 19)."""
    decoder = ChademoVehicleDecoder(CHADEMO)
    frames = CHADEMO.encode_vehicle_frames(REPORT)
    for frame_id, data in frames[:2]:
        decoder.feed(frame_id, data, 0.0)
    assert decoder.report(0.0, 0.5) is None
    decoder.feed(*frames[2], 0.0)
    no_discharge = decoder.report(0.0, 0.5)
    assert no_discharge is not None and no_discharge.max_discharge_current_a == 0.0
    decoder.feed(*frames[3], 0.2)
    assert decoder.report(0.5, 0.5) == REPORT
    assert decoder.report(0.5001, 0.5) is None


def test_chademo_report_is_reused_until_a_frame_changes() -> None:
    decoder = ChademoVehicleDecoder(CHADEMO)
    frames = CHADEMO.encode_vehicle_frames(REPORT)
    for frame_id, data in frames:
        decoder.feed(frame_id, data, 0.0)
    first = decoder.report(0.0, 0.5)
    for frame_id, data in frames:  # the same bytes again
        decoder.feed(frame_id, data, 0.1)
    assert decoder.report(0.1, 0.5) is first
    changed = dataclasses.replace(REPORT, soc_pct=REPORT.soc_pct + 1)
    for frame_id, data in CHADEMO.encode_vehicle_frames(changed):
        decoder.feed(frame_id, data, 0.2)
    assert decoder.report(0.2, 0.5) == changed


def test_status_frames_seen_before_decode_to_the_same_frame_and_bad_ones_still_fail() -> None:
    codec = InverterCodec()
    data = codec.encode_status_frame(INV_STATUS_ID, STATUS, 5)
    first = codec.decode_status(INV_STATUS_ID, data)
    assert codec.decode_status(INV_STATUS_ID, bytes(list(data))) is first
    corrupt = data[:CRC_BYTE] + bytes([data[CRC_BYTE] ^ 0x01])
    with pytest.raises(FrameError):
        codec.decode_status(INV_STATUS_ID, corrupt)
    for counter in range(40):  # bounded: one entry per counter value, then it starts over
        codec.decode_status(INV_STATUS_ID, codec.encode_status_frame(INV_STATUS_ID, STATUS,
                                                                      counter % 16))
    assert codec.decode_status(INV_STATUS_ID, data).counter == 5


def test_commands_seen_before_decode_to_the_same_frame_and_bad_ones_still_fail() -> None:
    codec = InverterCodec()
    frame_id, data = codec.encode_command(CHARGE, 7)
    first = codec.decode_command(frame_id, data)
    assert codec.decode_command(frame_id, bytes(list(data))) is first
    assert first.counter == 7 and first.command == codec.decode_command(
        *CODEC.encode_command(CHARGE, 7)).command
    with pytest.raises(FrameError):
        codec.decode_command(frame_id, data[:CRC_BYTE] + bytes([data[CRC_BYTE] ^ 0x80]))
    with pytest.raises(FrameError):
        codec.decode_command(frame_id, data[:7])  # a short copy of a known frame


def test_chademo_refuses_out_of_range_report() -> None:
    bad = dataclasses.replace(REPORT, target_voltage_v=1200.0)
    with pytest.raises(ProtocolError, match="TargetBatteryVoltage"):
        CHADEMO.encode_vehicle_frames(bad)


def test_ev_link_with_sim_ev_port(new_bus: BusFactory) -> None:
    ev_link = EvLink(PythonCanLink(new_bus(), "can1"))
    port = SimEvPort(new_bus())
    injector = new_bus()
    now = 0.0
    while now < 0.25:
        port.publish(now, REPORT)
        ev_link.poll(now)
        now = round(now + 0.01, 6)
    assert ev_link.report(now) == REPORT
    assert len([m for m in drain(injector) if m.arbitration_id == EV_CHARGE_STATUS_ID]) == 3
    raw_send(injector, EV_CHARGE_STATUS_ID, b"\x02")
    raw_send(injector, EV_BATTERY_LIMITS_ID, bytes.fromhex("0000fa00d0076400"))  # 2000 V
    raw_send(injector, 0x111, bytes(8))  # 0x110 (CHAdeMO 2.0 functions) is a vehicle frame
    ev_link.poll(now)
    assert dict(ev_link.counters) == {
        **{k: 0 for k in ev_link.counters},
        "bad_length": 1,
        "out_of_range": 1,
        "unknown_id": 1,
    }
    assert ev_link.report(now) == REPORT  # bad frames never replace good ones
    while now < 1.0:  # unplugged: silent
        port.publish(now, None)
        ev_link.poll(now)
        now = round(now + 0.01, 6)
    assert ev_link.report(now) is None
