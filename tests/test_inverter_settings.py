"""Inverter settings: DBC frames, codec, config, the controller's handshake and the simulated
inverter that applies the settings and reads them back.

Every bus is a python-can virtual bus on a channel name unique to the test; a third bus on the
same channel sees (and injects) raw frames.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import can
import cantools
import pytest
from cantools.database.can import Database as CanDatabase
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.config import Config, load_config, load_config_file
from controller.config.model import InverterSettings as InverterConfig
from controller.links import InverterLink
from controller.links.inverter_settings import (
    SettingsSync,
    format_setting,
    inverter_settings_from_config,
)
from hal.can_link import PythonCanLink
from hal.config_fields import META_KEY
from hal.errors import ConfigError, ProtocolError
from hal.protocols import dbc_path
from hal.protocols.dbc_frames import FrameError
from hal.protocols.e2e import seal_frame
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import (
    INV_RB_CTRL_ID,
    INV_RB_FREQ_ID,
    INV_RB_VOLT_ID,
    INV_SET_CTRL_ID,
    INV_SET_FREQ_ID,
    INV_SET_VOLT_ID,
    SETTINGS_FIELDS,
    SETTINGS_READBACK_IDS,
    SETTINGS_SLOTS,
    SETTINGS_WRITE_IDS,
)
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterSettings,
    InverterState,
    InverterStatus,
    RideThroughCategory,
)
from hal.registry import open_backend
from hal.settings import HalSettings
from hal.sim.backend import simulated
from hal.sim.inverter_port import (
    CORRUPTED_SETTING,
    FAULT_SETTINGS_IGNORED,
    FAULT_SETTINGS_READBACK_CORRUPT,
    FAULT_SILENCE,
    SETTINGS_INCOMPLETE,
    SimInverterPort,
)
from hal.sim.params import PlantParams
from hal.sim.plant.inverter import InverterModel, InverterParams

ROOT_EXAMPLE = Path(__file__).resolve().parent.parent / "hw" / "config.example.toml"
CODEC = InverterCodec()
TICK_S = 0.02
CHARGE = InverterCommand(InverterMode.GRID_FOLLOWING, True, 3500.0, 0.0, 16.0, 16.0)
STATUS = InverterStatus(
    state=InverterState.OFF, dc_voltage_v=0.0, dc_current_a=0.0, ac_power_w=0.0,
    ac_voltage_v=240.0, ac_frequency_hz=60.0, reactive_power_var=0.0, temperature_c=25.0,
    fault_word=0, warning_word=0,
)
# IEEE 1547-2018 Category II defaults (grid-codes.md section 1.1 and 1.2).
CAT_II = InverterSettings(
    ov2_pu=1.20, ov2_clearing_time_s=0.16, ov1_pu=1.10, ov1_clearing_time_s=2.0,
    uv1_pu=0.70, uv1_clearing_time_s=10.0, uv2_pu=0.45, uv2_clearing_time_s=0.16,
    of2_hz=62.0, of2_clearing_time_s=0.16, of1_hz=61.2, of1_clearing_time_s=300.0,
    uf1_hz=58.5, uf1_clearing_time_s=300.0, uf2_hz=56.5, uf2_clearing_time_s=0.16,
    ride_through_category=RideThroughCategory.CAT_II, anti_islanding=True,
    anti_islanding_gain=0.1, ramp_rate_w_per_s=20000.0, command_timeout_s=0.1,
)

BusFactory = Callable[[], can.BusABC]


@pytest.fixture
def new_bus() -> Iterator[BusFactory]:
    """Virtual buses on one channel unique to the test; all shut down afterwards."""
    channel = f"test-{uuid.uuid4().hex}"
    buses: list[can.BusABC] = []

    def make() -> can.BusABC:
        bus = can.Bus(interface="virtual", channel=channel)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.shutdown()


def drain(bus: can.BusABC) -> list[can.Message]:
    messages = []
    while (message := bus.recv(timeout=0)) is not None:
        messages.append(message)
    return messages


def raw_send(bus: can.BusABC, frame_id: int, data: bytes) -> None:
    bus.send(can.Message(arbitration_id=frame_id, data=data, is_extended_id=False))


# --- DBC -----------------------------------------------------------------------------------------


def _database() -> CanDatabase:
    db = cantools.database.load_file(str(dbc_path("inverter")), strict=True)
    assert isinstance(db, CanDatabase)
    return db


def test_settings_frames_in_the_dbc() -> None:
    db = _database()
    for write_id, read_id in zip(SETTINGS_WRITE_IDS, SETTINGS_READBACK_IDS, strict=True):
        write = db.get_message_by_frame_id(write_id)
        read = db.get_message_by_frame_id(read_id)
        assert read_id == write_id + 0x80
        assert write.senders == ["CTRL"] and read.senders == ["INV"]
        assert read.cycle_time == 5000
        for message in (write, read):
            assert message.length == 8 and not message.is_extended_frame
            assert message.comment
            assert message.get_signal_by_name("AliveCounter").start == 0
            assert message.get_signal_by_name("AliveCounter").length == 4
            assert message.get_signal_by_name("Crc8").start == 56
            for signal in message.signals:
                assert signal.comment, f"{message.name}.{signal.name} has no comment"
                assert signal.byte_order == "little_endian"
                assert signal.minimum is not None and signal.maximum is not None
        layout = [(s.name, s.start, s.length, s.scale, s.minimum, s.maximum, s.multiplexer_ids)
                  for s in write.signals]
        assert layout == [(s.name, s.start, s.length, s.scale, s.minimum, s.maximum,
                           s.multiplexer_ids) for s in read.signals]
    volt = db.get_message_by_frame_id(INV_SET_VOLT_ID)
    assert volt.get_signal_by_name("Page").choices == {0: "OV2", 1: "OV1", 2: "UV1", 3: "UV2"}
    freq = db.get_message_by_frame_id(INV_RB_FREQ_ID)
    assert freq.get_signal_by_name("Page").choices == {0: "OF2", 1: "OF1", 2: "UF1", 3: "UF2"}
    ctrl = db.get_message_by_frame_id(INV_SET_CTRL_ID)
    choices = ctrl.get_signal_by_name("RideThroughCat").choices
    assert choices is not None
    assert [str(v) for v in choices.values()] == [c.name for c in RideThroughCategory]


def test_cantools_decodes_a_settings_frame_for_people() -> None:
    db = _database()
    frame_id, data = CODEC.encode_settings(CAT_II, 3)[1]  # INV_SET_VOLT page 1
    decoded = cast(dict[str, Any], db.decode_message(frame_id, data))
    assert str(decoded["Page"]) == "OV1"
    assert decoded["OV1_Threshold"] == pytest.approx(1.1)
    assert decoded["OV1_ClearTime"] == pytest.approx(2.0)


# --- codec ---------------------------------------------------------------------------------------


def _config_meta(name: str) -> dict[str, Any]:
    fld = next(f for f in dataclasses.fields(InverterConfig) if f.name == name)
    return cast(dict[str, Any], fld.metadata[META_KEY])


def _allowed(name: str) -> st.SearchStrategy[float]:
    meta = _config_meta(name)
    return st.floats(min_value=meta["min"], max_value=meta["max"], allow_nan=False)


settings_in_config_ranges = st.builds(
    InverterSettings,
    **{name: _allowed(name) for name in SETTINGS_FIELDS
       if name not in ("ride_through_category", "anti_islanding")},
    ride_through_category=st.sampled_from(RideThroughCategory),
    anti_islanding=st.booleans(),
)

RESOLUTION = {"w_per_s": 1.0, "pu": 0.001, "hz": 0.01, "_s": 0.001, "gain": 0.001}


def _resolution(name: str) -> float:
    return next(step for suffix, step in RESOLUTION.items() if name.endswith(suffix))


@settings(max_examples=200, deadline=None)
@given(settings_in_config_ranges, st.integers(min_value=0, max_value=15))
def test_settings_round_trip_over_the_allowed_ranges(
    desired: InverterSettings, counter: int
) -> None:
    frames = CODEC.encode_settings(desired, counter)
    readback = CODEC.encode_settings_readback(desired, counter)
    assert [frame_id for frame_id, _ in frames] == [INV_SET_VOLT_ID] * 4 + [INV_SET_FREQ_ID] * 4 \
        + [INV_SET_CTRL_ID]
    assert [frame_id for frame_id, _ in readback] == [INV_RB_VOLT_ID] * 4 + [INV_RB_FREQ_ID] * 4 \
        + [INV_RB_CTRL_ID]
    for group in (frames, readback):
        values: dict[str, float] = {}
        pages = []
        for frame_id, data in group:
            decoded = CODEC.decode_settings_frame(frame_id, data)
            assert decoded.frame_id == frame_id
            values.update(decoded.values)
            pages.append((decoded.slot, decoded.counter))
        assert pages == [((INV_SET_VOLT_ID, p), (counter + p) % 16) for p in range(4)] + [
            ((INV_SET_FREQ_ID, p), (counter + p) % 16) for p in range(4)] + [
            ((INV_SET_CTRL_ID, 0), counter)]
        got = CODEC.assemble_settings(values)
        assert got == CODEC.quantize_settings(desired)
    quantized = CODEC.quantize_settings(desired)
    assert CODEC.quantize_settings(quantized) == quantized  # a read-back re-encodes to itself
    assert quantized.ride_through_category is desired.ride_through_category
    assert quantized.anti_islanding is desired.anti_islanding
    for name in SETTINGS_FIELDS:
        if name in ("ride_through_category", "anti_islanding"):
            continue
        step = _resolution(name)
        assert abs(getattr(quantized, name) - getattr(desired, name)) <= step / 2 + 1e-9, name


def test_category_ii_defaults_survive_the_wire_exactly() -> None:
    assert CODEC.quantize_settings(CAT_II) == CAT_II


@pytest.mark.parametrize(
    ("field", "value", "signal"),
    [
        ("ov1_pu", 1.6, "OV1_Threshold"),
        ("uv2_pu", -0.1, "UV2_Threshold"),
        ("of2_hz", 70.0, "OF2_Threshold"),
        ("uf2_hz", 40.0, "UF2_Threshold"),
        ("uf1_clearing_time_s", 1000.5, "UF1_ClearTime"),
        ("ov2_clearing_time_s", -0.01, "OV2_ClearTime"),
        ("command_timeout_s", 0.01, "CommandTimeout"),
        ("command_timeout_s", 61.0, "CommandTimeout"),
        ("command_timeout_s", math.nan, "CommandTimeout"),
        ("ramp_rate_w_per_s", 0.0, "RampRate"),
        ("ramp_rate_w_per_s", 70000.0, "RampRate"),
        ("anti_islanding_gain", 0.3, "AntiIslandingGain"),
    ],
)
def test_out_of_range_settings_are_refused_naming_the_setting(
    field: str, value: float, signal: str
) -> None:
    bad = dataclasses.replace(CAT_II, **cast(dict[str, Any], {field: value}))
    for encode in (CODEC.encode_settings, CODEC.encode_settings_readback):
        with pytest.raises(ProtocolError) as info:
            encode(bad, 0)
        assert field in str(info.value) and signal in str(info.value)
    with pytest.raises(ProtocolError):
        CODEC.quantize_settings(bad)


def test_settings_decode_reports_specific_reasons() -> None:
    frame_id, good = CODEC.encode_settings(CAT_II, 0)[0]
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(frame_id, good[:7] + bytes([good[7] ^ 0x01]))
    assert info.value.reason == "bad_crc"
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(frame_id, good[:7])
    assert info.value.reason == "bad_length"
    page5 = seal_frame(frame_id, bytes([0x50 | (good[0] & 0x0F)]) + good[1:])
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(frame_id, page5)
    assert info.value.reason == "out_of_range"
    too_high = seal_frame(frame_id, good[:1] + (2000).to_bytes(2, "little") + good[3:])  # 2 p.u.
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(frame_id, too_high)
    assert info.value.reason == "out_of_range" and "OV2_Threshold" in str(info.value)
    ctrl_id, ctrl = CODEC.encode_settings(CAT_II, 0)[-1]
    no_category = seal_frame(ctrl_id, bytes([ctrl[0] & 0xCF]) + ctrl[1:])  # category 0
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(ctrl_id, no_category)
    assert info.value.reason == "out_of_range"
    with pytest.raises(FrameError) as info:
        CODEC.decode_settings_frame(0x180, good)
    assert info.value.reason == "unknown_id"


def test_pages_of_one_frame_id_are_cached_separately() -> None:
    codec = InverterCodec()
    first = codec.encode_settings(CAT_II, 0)
    again = codec.encode_settings(CAT_II, 5)  # served from the cache: only counter and CRC move
    for (frame_id, a), (_, b) in zip(first, again, strict=True):
        assert a[1:7] == b[1:7] and a[0] >> 4 == b[0] >> 4
        assert codec.decode_settings_frame(frame_id, b).values == \
            codec.decode_settings_frame(frame_id, a).values
    changed = dataclasses.replace(CAT_II, uv1_clearing_time_s=20.0)
    values: dict[str, float] = {}
    for frame_id, data in codec.encode_settings(changed, 9):
        values.update(codec.decode_settings_frame(frame_id, data).values)
    assert codec.assemble_settings(values) == changed


# --- config --------------------------------------------------------------------------------------


def test_config_defaults_are_category_ii_and_the_example_agrees() -> None:
    assert inverter_settings_from_config(Config()) == CAT_II
    assert inverter_settings_from_config(load_config_file(ROOT_EXAMPLE)) == CAT_II


def test_config_maps_every_inverter_key() -> None:
    config = load_config(
        '[hal]\nbackend = "sim"\n[inverter]\nride_through_category = "III"\n'
        "anti_islanding = false\ncommand_timeout_s = 0.3\nuv1_pu = 0.88\n"
        "uv1_clearing_time_s = 21.0\nof1_hz = 61.5\n"
    )
    got = inverter_settings_from_config(config)
    # Category III's own defaults (IEEE 1547-2018 Table 13: OV1 13 s, UV2 0.50 p.u. / 2 s),
    # then the file's overrides on top.
    assert got == dataclasses.replace(
        CAT_II, ride_through_category=RideThroughCategory.CAT_III, anti_islanding=False,
        command_timeout_s=0.3, ov1_clearing_time_s=13.0, uv2_pu=0.50, uv2_clearing_time_s=2.0,
        uv1_pu=0.88, uv1_clearing_time_s=21.0, of1_hz=61.5)


def test_config_refuses_settings_outside_the_standard() -> None:
    with pytest.raises(ConfigError) as info:
        load_config('[hal]\nbackend = "sim"\n[inverter]\ncommand_timeout_s = 12.0\n'
                    'ov2_pu = 1.3\nride_through_category = "IV"\n')
    found = info.value.problems
    assert "inverter.command_timeout_s = 12.0: out of range, allowed 0.02 to 10.0 s" in found
    assert "inverter.ov2_pu = 1.3: out of range, allowed 1.2 to 1.2 p.u." in found
    assert any(p.startswith("inverter.ride_through_category = 'IV'") for p in found)


def test_every_config_range_fits_the_frames() -> None:
    for name in SETTINGS_FIELDS:
        if name in ("ride_through_category", "anti_islanding"):
            continue
        meta = _config_meta(name)
        for value in (meta["min"], meta["max"]):
            CODEC.quantize_settings(dataclasses.replace(CAT_II, **cast(dict[str, Any],
                                                                       {name: value})))


# --- controller SettingsSync <-> simulated inverter ---------------------------------------------


class SettingsRig:
    """Controller link + settings sync, simulated inverter, and a raw observer/injector."""

    def __init__(self, new_bus: BusFactory, desired: InverterSettings = CAT_II) -> None:
        self.controller_bus = new_bus()
        can_link = PythonCanLink(self.controller_bus, "can0")
        self.sync = SettingsSync(can_link, CODEC, desired)
        self.link = InverterLink(can_link, CODEC, readback_sink=self.sync.readback)
        self.port = SimInverterPort(new_bus(), CODEC)
        self.injector = new_bus()
        self.now = 0.0

    def tick(self, command: InverterCommand | None = CHARGE) -> None:
        """One controller tick (poll, settings, command) and one inverter step."""
        self.link.poll(self.now)
        self.sync.update(self.now)
        if command is not None:
            assert self.link.send(command)
        self.port.receive(self.now)
        self.port.publish(self.now, STATUS)
        self.now = round(self.now + TICK_S, 9)

    def run(self, seconds: float, always: Callable[[], bool] | None = None) -> None:
        """Tick for ``seconds``; ``always()`` must hold after every tick."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.tick()
            if always is not None:
                assert always(), f"condition broken at t = {self.now}"


@pytest.fixture
def rig(new_bus: BusFactory) -> SettingsRig:
    return SettingsRig(new_bus)


def test_settings_are_written_read_back_and_verified(rig: SettingsRig) -> None:
    assert not rig.sync.verified(0.0)
    assert rig.sync.problem(0.0) == (
        "no settings read-back from the inverter (0 settings writes sent)")
    rig.tick()  # the controller writes; the inverter applies and reads back at once
    assert rig.port.settings == CAT_II
    assert rig.port.accepted_settings == 1
    rig.link.poll(rig.now)
    assert rig.sync.readback_settings == CAT_II
    assert rig.sync.verified(rig.now)
    assert rig.sync.problem(rig.now) is None and rig.sync.mismatch is None
    rig.run(25.0, always=lambda: rig.sync.verified(rig.now))
    assert rig.sync.writes == 1  # verified: no further writes
    assert rig.sync.readbacks >= 5  # the inverter's 5 s read-back cycle keeps it fresh
    assert all(count == 0 for count in rig.link.counters.values())
    assert all(count == 0 for count in rig.port.rejected.values())


def test_settings_frames_advance_one_counter_per_frame_id(rig: SettingsRig) -> None:
    rig.tick(command=None)
    sent = [m for m in drain(rig.injector) if m.arbitration_id in SETTINGS_WRITE_IDS]
    rig.sync.set_desired(dataclasses.replace(CAT_II, ramp_rate_w_per_s=5000.0))
    rig.tick(command=None)
    sent += [m for m in drain(rig.injector) if m.arbitration_id in SETTINGS_WRITE_IDS]
    counters = {frame_id: [m.data[0] & 0x0F for m in sent if m.arbitration_id == frame_id]
                for frame_id in SETTINGS_WRITE_IDS}
    assert counters == {INV_SET_VOLT_ID: list(range(1, 9)), INV_SET_FREQ_ID: list(range(1, 9)),
                        INV_SET_CTRL_ID: [1, 2]}


def test_a_changed_setting_is_sent_again_and_verified_again(rig: SettingsRig) -> None:
    rig.run(1.0)
    assert rig.sync.verified(rig.now)
    assert not rig.sync.set_desired(CAT_II)  # unchanged: nothing to send
    changed = dataclasses.replace(CAT_II, ov1_clearing_time_s=5.0, command_timeout_s=0.3)
    assert rig.sync.set_desired(changed)
    assert not rig.sync.verified(rig.now)
    assert rig.sync.mismatch == "ov1_clearing_time_s: desired 5 s, inverter reports 2 s"
    rig.tick()
    assert rig.sync.writes == 2
    assert rig.port.settings == changed
    assert rig.port.command_timeout_s == 0.3
    rig.tick()
    assert rig.sync.verified(rig.now)


def test_set_desired_refuses_unencodable_settings_and_keeps_the_old(rig: SettingsRig) -> None:
    with pytest.raises(ProtocolError, match="command_timeout_s"):
        rig.sync.set_desired(dataclasses.replace(CAT_II, command_timeout_s=75.0))
    assert rig.sync.desired == CAT_II
    with pytest.raises(ProtocolError, match="ov1_pu"):
        SettingsSync(PythonCanLink(rig.injector, "x"), CODEC,
                     dataclasses.replace(CAT_II, ov1_pu=2.0))


def test_corrupt_readback_is_never_verified_and_the_mismatch_names_the_setting(
    rig: SettingsRig,
) -> None:
    rig.port.inject(FAULT_SETTINGS_READBACK_CORRUPT)
    rig.run(5.0, always=lambda: not rig.sync.verified(rig.now))
    assert rig.port.settings == CAT_II  # it runs the right settings but reports another
    assert CORRUPTED_SETTING == "ov1_clearing_time_s"
    assert rig.sync.mismatch == "ov1_clearing_time_s: desired 2 s, inverter reports 1 s"
    assert rig.sync.problem(rig.now) == (
        "inverter settings read-back mismatch: ov1_clearing_time_s: desired 2 s, "
        "inverter reports 1 s")
    assert rig.sync.writes == 5  # retried every second (t = 0, 1, 2, 3, 4)


def test_ignored_settings_are_never_verified(rig: SettingsRig) -> None:
    rig.port.inject(FAULT_SETTINGS_IGNORED)
    rig.run(3.0, always=lambda: not rig.sync.verified(rig.now))
    assert rig.port.settings is None
    assert rig.port.command_timeout_s == 0.1  # still the factory value
    assert rig.sync.readback_settings is None and rig.sync.mismatch is None
    assert rig.sync.problem(rig.now) == (
        "no settings read-back from the inverter (3 settings writes sent)")
    rig.port.clear()
    rig.run(1.0)
    assert rig.sync.verified(rig.now)  # the next retry gets through


def test_a_silent_readback_goes_stale(rig: SettingsRig) -> None:
    rig.run(5.5)  # read-backs at t = 0 and t = 5
    assert rig.sync.verified(rig.now)
    rig.port.inject(FAULT_SILENCE)
    rig.run(15.0)
    last = rig.now - rig.sync.readback_age(rig.now)  # polled at t = 5.02
    assert last == pytest.approx(5.02)
    assert rig.sync.verified(last + 12.5)
    assert not rig.sync.verified(last + 12.501)
    assert not rig.sync.verified(rig.now)
    assert rig.sync.mismatch is None
    assert rig.sync.problem(last + 12.501) == (
        "inverter settings read-back is 12.5 s old (limit 12.5 s)")


def test_the_simulated_inverter_refuses_bad_settings_frames(rig: SettingsRig) -> None:
    frames = CODEC.encode_settings(CAT_II, 1)
    *pages, (ctrl_id, ctrl) = frames
    for frame_id, data in pages:
        raw_send(rig.injector, frame_id, data)
    raw_send(rig.injector, ctrl_id, ctrl[:7] + bytes([ctrl[7] ^ 0x5A]))  # bad CRC on the commit
    rig.port.receive(0.0)
    assert rig.port.rejected["bad_crc"] == 1
    assert rig.port.accepted_settings == 0
    raw_send(rig.injector, ctrl_id, CODEC.encode_settings(CAT_II, 2)[-1][1])
    rig.port.receive(0.01)
    assert rig.port.settings == CAT_II  # the staged pages plus a good commit
    # Every frame repeats the last counter of its frame ID: all refused, nothing changes.
    changed = dataclasses.replace(CAT_II, uf1_hz=59.0)
    last_counter = {INV_SET_VOLT_ID: 4, INV_SET_FREQ_ID: 4, INV_SET_CTRL_ID: 2}
    for frame_id, page in SETTINGS_SLOTS:
        raw_send(rig.injector, frame_id,
                 CODEC.encode_settings_frame(frame_id, page, changed, last_counter[frame_id]))
    rig.port.receive(0.02)
    assert rig.port.rejected["bad_counter"] == 9
    assert rig.port.settings == CAT_II
    assert rig.port.accepted_settings == 1


def test_the_simulated_inverter_applies_only_complete_sets(rig: SettingsRig) -> None:
    frames = CODEC.encode_settings(dataclasses.replace(CAT_II, ramp_rate_w_per_s=900.0), 1)
    for index, (frame_id, data) in enumerate(frames):
        if index != 6:  # INV_SET_FREQ page 2 (UF1) lost
            raw_send(rig.injector, frame_id, data)
    rig.port.receive(0.0)
    assert rig.port.rejected[SETTINGS_INCOMPLETE] == 1
    assert rig.port.settings is None
    rig.port.publish(0.0, STATUS)
    assert not [m for m in drain(rig.injector) if m.arbitration_id in SETTINGS_READBACK_IDS]


def test_the_controller_refuses_bad_readback_frames(rig: SettingsRig) -> None:
    frames = CODEC.encode_settings_readback(CAT_II, 1)
    *pages, (ctrl_id, ctrl) = frames
    for frame_id, data in pages:
        raw_send(rig.injector, frame_id, data)
    raw_send(rig.injector, ctrl_id, ctrl[:7] + bytes([ctrl[7] ^ 0x5A]))
    rig.link.poll(0.0)
    assert rig.link.counters["bad_crc"] == 1
    assert rig.sync.readbacks == 0
    raw_send(rig.injector, ctrl_id, ctrl)  # intact this time: completes the read-back
    rig.link.poll(0.01)
    assert rig.sync.readback_settings == CAT_II
    assert rig.link.frame_age(INV_RB_CTRL_ID, 0.01) == 0.0
    changed = dataclasses.replace(CAT_II, ramp_rate_w_per_s=5000.0)
    for frame_id, data in CODEC.encode_settings_readback(changed, 1):  # counters repeated
        raw_send(rig.injector, frame_id, data)
    rig.link.poll(0.02)
    assert rig.link.counters["bad_counter"] >= 3  # the first frame of each ID at least
    assert rig.sync.readback_settings == CAT_II  # INV_RB_CTRL (1 again) refused: no new set


def test_a_readback_without_all_pages_is_not_complete(rig: SettingsRig) -> None:
    frames = CODEC.encode_settings_readback(CAT_II, 1)
    for index, (frame_id, data) in enumerate(frames):
        if index != 2:
            raw_send(rig.injector, frame_id, data)
    rig.link.poll(0.0)
    assert rig.sync.incomplete_readbacks == 1
    assert rig.sync.readback_settings is None


def test_inverter_link_without_a_sink_checks_and_drops_readback(new_bus: BusFactory) -> None:
    link = InverterLink(PythonCanLink(new_bus(), "can0"), CODEC)
    injector = new_bus()
    for frame_id, data in CODEC.encode_settings_readback(CAT_II, 1):
        raw_send(injector, frame_id, data)
    link.poll(0.0)
    assert all(count == 0 for count in link.counters.values())
    assert link.frame_age(INV_RB_VOLT_ID, 0.0) == 0.0


def test_a_refused_send_is_counted_and_retried_next_tick(rig: SettingsRig) -> None:
    rig.controller_bus.shutdown()
    assert not rig.sync.update(0.0)
    assert rig.sync.send_failures == 1 and rig.sync.writes == 0
    assert rig.sync.last_send_error is not None


def test_format_setting() -> None:
    assert format_setting("ride_through_category", RideThroughCategory.CAT_III) == "III"
    assert format_setting("anti_islanding", False) == "off"
    assert format_setting("ramp_rate_w_per_s", 20000.0) == "20000 W/s"
    assert format_setting("ov1_pu", 1.1) == "1.1 p.u."
    assert format_setting("of2_hz", 62.0) == "62 Hz"
    assert format_setting("anti_islanding_gain", 0.05) == "0.05 1/Hz"
    assert format_setting("command_timeout_s", 0.1) == "0.1 s"


# --- the simulated inverter runs the applied settings --------------------------------------------


def test_the_command_timeout_follows_the_applied_setting(rig: SettingsRig) -> None:
    assert rig.port.command_timeout_s == 0.1  # factory value until settings are applied
    rig.sync.set_desired(dataclasses.replace(CAT_II, command_timeout_s=0.3))
    rig.run(1.0)
    assert rig.port.command_timeout_s == 0.3
    assert rig.link.send(CHARGE)  # the last command: the controller stops sending at t = 2
    rig.port.receive(2.0)
    rig.port.receive(2.3)
    assert rig.port.command(2.3) == CHARGE  # 0.1 s would have ceased long ago
    rig.port.receive(2.3001)
    assert rig.port.command(2.3001) is None


def test_the_power_stage_ramps_at_the_applied_rate() -> None:
    model = InverterModel(InverterParams(), 240.0)
    assert model.ramp_w_per_s == 20000.0
    model.configure(dataclasses.replace(CAT_II, ramp_rate_w_per_s=1000.0))
    t, dt = 0.0, 0.01
    while t < 0.2:  # past the start delay
        model.step(t, dt, CHARGE, 240.0, True, 400.0, 0.0)
        t += dt
    before = model.ac_power_w
    model.step(t, dt, CHARGE, 240.0, True, 400.0, 0.0)
    assert model.ac_power_w - before == pytest.approx(10.0)
    model.configure(None)
    assert model.ramp_w_per_s == 20000.0


def test_the_simulated_world_runs_the_settings_it_was_given() -> None:
    hw = open_backend(HalSettings(), plant=PlantParams())
    try:
        world = simulated(hw).world
        desired = dataclasses.replace(CAT_II, ramp_rate_w_per_s=1500.0, command_timeout_s=0.25)
        sync = SettingsSync(hw.can["inverter"], CODEC, desired)
        link = InverterLink(hw.can["inverter"], CODEC, readback_sink=sync.readback)
        now = hw.clock.now()
        for _ in range(5):
            link.poll(now)
            sync.update(now)
            link.send(InverterCommand.off())
            now += TICK_S
            hw.clock.sleep_until(now)
        assert world.inverter_port.settings == desired
        assert world.inverter_port.command_timeout_s == 0.25
        assert world.inverter.ramp_w_per_s == 1500.0
        assert sync.verified(now)
    finally:
        hw.close()
