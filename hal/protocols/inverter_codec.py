"""Typed encode/decode of the controller<->inverter frames (``inverter.dbc``) with E2E checks.

The codec is stateless: it fills in and verifies the CRC and range-checks every signal, but the
alive counter's progression is the receiver's job (it needs the previous frame).

The settings frames (INV_SET_* written by the controller, INV_RB_* read back from the inverter)
are multiplexed: the trip frames carry one trip element per page (``Page`` in the high nibble of
byte 0), so one :class:`InverterSettings` travels as nine frames, always in the order
VOLT pages 0..3, FREQ pages 0..3, CTRL (the CTRL frame closes the set).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Final, Generic, TypeVar

import cantools.database
from cantools.database.can import Message

from hal.errors import ProtocolError
from hal.protocols.dbc_frames import (
    BAD_CRC,
    OUT_OF_RANGE,
    UNKNOWN_ID,
    FrameError,
    check_length,
    decode_checked,
    encode_strict,
    load_database,
)
from hal.protocols.e2e import CRC_BYTE, crc_ok, seal_frame
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterSettings,
    InverterState,
    InverterStatus,
    RideThroughCategory,
)

_COUNTER_MASK: Final = 0x0F  # the alive counter is the low nibble of byte 0 in every frame
INV_CMD_ID: Final = 0x100
INV_STATUS_ID: Final = 0x180
INV_STATUS2_ID: Final = 0x181
INV_FAULT_ID: Final = 0x182
STATUS_FRAME_IDS: Final = (INV_STATUS_ID, INV_STATUS2_ID, INV_FAULT_ID)

INV_SET_VOLT_ID: Final = 0x110
INV_SET_FREQ_ID: Final = 0x111
INV_SET_CTRL_ID: Final = 0x112
INV_RB_VOLT_ID: Final = 0x190
INV_RB_FREQ_ID: Final = 0x191
INV_RB_CTRL_ID: Final = 0x192
SETTINGS_WRITE_IDS: Final = (INV_SET_VOLT_ID, INV_SET_FREQ_ID, INV_SET_CTRL_ID)  # send order
SETTINGS_READBACK_IDS: Final = (INV_RB_VOLT_ID, INV_RB_FREQ_ID, INV_RB_CTRL_ID)  # send order
SETTINGS_FRAME_IDS: Final = (*SETTINGS_WRITE_IDS, *SETTINGS_READBACK_IDS)
SETTINGS_COMMIT_IDS: Final = (INV_SET_CTRL_ID, INV_RB_CTRL_ID)  # the last frame of a set
READBACK_OFFSET: Final = INV_RB_VOLT_ID - INV_SET_VOLT_ID  # read-back ID = write ID + 0x80

# Trip elements per multiplexed frame, in page order; the field of InverterSettings is
# "<element>_<unit>" for the threshold and "<element>_clearing_time_s" for the clearing time.
TRIP_ELEMENTS: Final[Mapping[int, tuple[str, ...]]] = {
    INV_SET_VOLT_ID: ("ov2", "ov1", "uv1", "uv2"),
    INV_SET_FREQ_ID: ("of2", "of1", "uf1", "uf2"),
}
_THRESHOLD_UNIT: Final = {INV_SET_VOLT_ID: "pu", INV_SET_FREQ_ID: "hz"}
# INV_SET_CTRL / INV_RB_CTRL: InverterSettings field -> DBC signal.
CTRL_SIGNALS: Final[Mapping[str, str]] = {
    "ride_through_category": "RideThroughCat",
    "anti_islanding": "AntiIslanding",
    "anti_islanding_gain": "AntiIslandingGain",
    "ramp_rate_w_per_s": "RampRate",
    "command_timeout_s": "CommandTimeout",
}
SETTINGS_SLOTS: Final = (
    *((INV_SET_VOLT_ID, page) for page in range(4)),
    *((INV_SET_FREQ_ID, page) for page in range(4)),
    (INV_SET_CTRL_ID, 0),
)  # (write frame ID, page) of the nine frames of one settings set, in send order

_MS_PER_S: Final = 1000.0
_LIMIT_EPSILON_A: Final = 1e-6  # float noise allowed before a current limit is floored


@dataclass(frozen=True, slots=True)
class CommandFrame:
    """A decoded INV_CMD."""

    counter: int
    command: InverterCommand


@dataclass(frozen=True, slots=True)
class StatusFrame:
    """A decoded INV_STATUS (fast, 20 ms)."""

    counter: int
    state: InverterState
    dc_voltage_v: float
    dc_current_a: float
    ac_power_w: float
    synced: bool = False


@dataclass(frozen=True, slots=True)
class Status2Frame:
    """A decoded INV_STATUS2 (AC side and temperature, 100 ms)."""

    counter: int
    ac_voltage_v: float
    ac_frequency_hz: float
    reactive_power_var: float
    temperature_c: float


@dataclass(frozen=True, slots=True)
class FaultFrame:
    """A decoded INV_FAULT (100 ms)."""

    counter: int
    fault_word: int
    warning_word: int


InverterStatusFrame = StatusFrame | Status2Frame | FaultFrame


@dataclass(frozen=True, slots=True)
class SettingsFrame:
    """A decoded settings write (INV_SET_*) or read-back (INV_RB_*) frame: one page of a set.

    ``values`` pairs :class:`InverterSettings` field names with their wire values (the category
    and the anti-islanding bit as numbers; :meth:`InverterCodec.assemble_settings` types them).
    """

    frame_id: int
    counter: int
    page: int
    values: tuple[tuple[str, float], ...]

    @property
    def readback(self) -> bool:
        """True for an INV_RB_* frame (sent by the inverter)."""
        return self.frame_id in SETTINGS_READBACK_IDS

    @property
    def slot(self) -> tuple[int, int]:
        """(write frame ID, page): the same for a write frame and its read-back."""
        base = self.frame_id - READBACK_OFFSET if self.readback else self.frame_id
        return base, self.page

    @property
    def commits(self) -> bool:
        """True for the CTRL frame, the last of a settings set."""
        return self.frame_id in SETTINGS_COMMIT_IDS


def _threshold_field(write_id: int, element: str) -> str:
    return f"{element}_{_THRESHOLD_UNIT[write_id]}"


def _clearing_field(element: str) -> str:
    return f"{element}_clearing_time_s"


SETTINGS_FIELDS: Final = tuple(f.name for f in fields(InverterSettings))


def _floor_limit(current_a: float) -> float:
    """Current limits are floored to the 1 A step: the wire never allows more than asked."""
    if not math.isfinite(current_a):
        return current_a  # refused by the strict encoder with the signal named
    return float(math.floor(current_a + _LIMIT_EPSILON_A))


def _round_setpoint(value: float) -> float:
    return float(round(value)) if math.isfinite(value) else value


class InverterCodec:
    """Frames of ``inverter.dbc`` <-> typed messages; raises ProtocolError / FrameError."""

    def __init__(self) -> None:
        db = load_database("inverter")
        self._messages: dict[int, Message] = {
            frame_id: db.get_message_by_frame_id(frame_id)
            for frame_id in (INV_CMD_ID, *STATUS_FRAME_IDS, *SETTINGS_FRAME_IDS)
        }
        self._multiplexed = frozenset(
            frame_id for frame_id, message in self._messages.items() if message.is_multiplexed()
        )
        # Per frame ID and page (0 for frames without pages), the last payload with its counter
        # nibble cleared, and what it encodes: a frame that differs only in its alive counter is
        # not run through cantools again.
        self._encoded: dict[tuple[int, int], tuple[tuple[object, ...], bytes]] = {}
        self._decoded: dict[tuple[int, int], tuple[bytes, dict[str, float]]] = {}
        self._bounds: dict[tuple[int, str], _Bounds] = {}
        self._seen_status: _SeenFrames[InverterStatusFrame] = _SeenFrames()
        self._seen_commands: _SeenFrames[CommandFrame] = _SeenFrames()
        self._seen_settings: _SeenFrames[SettingsFrame] = _SeenFrames()
        self._status_bounds = tuple(self._signal_bounds(frame_id, signal) for frame_id, signal in (
            (INV_STATUS_ID, "V_Dc"), (INV_STATUS_ID, "I_Dc"), (INV_STATUS_ID, "P_Ac"),
            (INV_STATUS2_ID, "V_Ac"), (INV_STATUS2_ID, "F_Ac"), (INV_STATUS2_ID, "Q_Ac"),
            (INV_STATUS2_ID, "Temp")))

    def cycle_time_s(self, frame_id: int) -> float:
        """The frame's cycle time from the DBC (``GenMsgCycleTime``), in seconds."""
        cycle_ms = self._message(frame_id).cycle_time
        if cycle_ms is None:
            raise ProtocolError(f"frame 0x{frame_id:03X} has no cycle time in the DBC")
        return cycle_ms / _MS_PER_S

    # --- encoding -----------------------------------------------------------------------------

    def encode_command(self, cmd: InverterCommand, counter: int) -> tuple[int, bytes]:
        """INV_CMD for ``cmd``: P/Q rounded to 1 W/var, current limits floored to 1 A."""
        values = {
            "AliveCounter": counter,
            "Mode": int(cmd.mode),
            "Enable": int(cmd.enable),
            "SyncToGrid": int(cmd.sync_to_grid),
            "P_Set": _round_setpoint(cmd.p_set_w),
            "Q_Set": _round_setpoint(cmd.q_set_var),
            "I_DcChargeLimit": _floor_limit(cmd.dc_charge_limit_a),
            "I_DcDischargeLimit": _floor_limit(cmd.dc_discharge_limit_a),
            "Crc8": 0,
        }
        return INV_CMD_ID, self._encode(INV_CMD_ID, values)

    def encode_status(self, status: InverterStatus, counter: int) -> list[tuple[int, bytes]]:
        """The three inverter frames for ``status``, all with the same ``counter``."""
        return [
            (frame_id, self.encode_status_frame(frame_id, status, counter))
            for frame_id in STATUS_FRAME_IDS
        ]

    def encode_status_frame(self, frame_id: int, status: InverterStatus, counter: int) -> bytes:
        """One of INV_STATUS / INV_STATUS2 / INV_FAULT for ``status``."""
        values: dict[str, float]
        if frame_id == INV_STATUS_ID:
            values = {
                "State": int(status.state),
                "Synced": int(status.synced),
                "V_Dc": status.dc_voltage_v,
                "I_Dc": status.dc_current_a,
                "P_Ac": _round_setpoint(status.ac_power_w),
            }
        elif frame_id == INV_STATUS2_ID:
            values = {
                "V_Ac": status.ac_voltage_v,
                "F_Ac": status.ac_frequency_hz,
                "Q_Ac": _round_setpoint(status.reactive_power_var),
                "Temp": _round_setpoint(status.temperature_c),
            }
        elif frame_id == INV_FAULT_ID:
            values = {"FaultWord": status.fault_word, "WarningWord": status.warning_word}
        else:
            raise ProtocolError(f"0x{frame_id:03X} is not an inverter status frame")
        values.update({"AliveCounter": counter, "Crc8": 0})
        return self._encode(frame_id, values)

    def clamp_status(self, status: InverterStatus) -> InverterStatus:
        """``status`` with every analogue value saturated to what the frames can carry and
        rounded to the frames' resolution.

        A real inverter's firmware saturates its measurements and reports them in the frame's
        units; the simulator uses this so that a physics excursion (say 1001 V DC) is reported
        as the full-scale value, not an error, and an unchanged measurement gives an unchanged
        frame (both ends' codec caches then skip the DBC work).
        """
        v_dc, i_dc, p_ac, v_ac, f_ac, q_ac, temp = self._status_bounds
        return InverterStatus(
            state=status.state,
            dc_voltage_v=_clamp_to(v_dc, status.dc_voltage_v),
            dc_current_a=_clamp_to(i_dc, status.dc_current_a),
            ac_power_w=_clamp_to(p_ac, status.ac_power_w),
            ac_voltage_v=_clamp_to(v_ac, status.ac_voltage_v),
            ac_frequency_hz=_clamp_to(f_ac, status.ac_frequency_hz),
            reactive_power_var=_clamp_to(q_ac, status.reactive_power_var),
            temperature_c=_clamp_to(temp, status.temperature_c),
            fault_word=status.fault_word,
            warning_word=status.warning_word,
            synced=status.synced,
        )

    # --- decoding -----------------------------------------------------------------------------

    def decode_command(self, frame_id: int, data: bytes) -> CommandFrame:
        """A verified INV_CMD (length, CRC, ranges); raises :class:`FrameError`."""
        if frame_id != INV_CMD_ID:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not INV_CMD")
        return self._seen_commands.decode(frame_id, data, self._decode_command)

    def _decode_command(self, frame_id: int, data: bytes) -> CommandFrame:
        v = self._decode(frame_id, data)
        command = InverterCommand(
            mode=InverterMode(int(v["Mode"])),
            enable=bool(v["Enable"]),
            sync_to_grid=bool(v["SyncToGrid"]),
            p_set_w=v["P_Set"],
            q_set_var=v["Q_Set"],
            dc_charge_limit_a=v["I_DcChargeLimit"],
            dc_discharge_limit_a=v["I_DcDischargeLimit"],
        )
        return CommandFrame(counter=int(v["AliveCounter"]), command=command)

    def decode_status(self, frame_id: int, data: bytes) -> InverterStatusFrame:
        """A verified inverter status frame (length, CRC, ranges); raises :class:`FrameError`."""
        if frame_id not in STATUS_FRAME_IDS:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not an inverter status frame")
        return self._seen_status.decode(frame_id, data, self._decode_status)

    def _decode_status(self, frame_id: int, data: bytes) -> InverterStatusFrame:
        v = self._decode(frame_id, data)
        counter = int(v["AliveCounter"])
        if frame_id == INV_STATUS_ID:
            return StatusFrame(
                counter=counter,
                state=InverterState(int(v["State"])),
                synced=bool(v["Synced"]),
                dc_voltage_v=v["V_Dc"],
                dc_current_a=v["I_Dc"],
                ac_power_w=v["P_Ac"],
            )
        if frame_id == INV_STATUS2_ID:
            return Status2Frame(
                counter=counter,
                ac_voltage_v=v["V_Ac"],
                ac_frequency_hz=v["F_Ac"],
                reactive_power_var=v["Q_Ac"],
                temperature_c=v["Temp"],
            )
        return FaultFrame(
            counter=counter, fault_word=int(v["FaultWord"]), warning_word=int(v["WarningWord"])
        )

    # --- settings -----------------------------------------------------------------------------

    def encode_settings(self, settings: InverterSettings, counter: int) -> list[tuple[int, bytes]]:
        """The nine INV_SET_* frames of ``settings`` in send order (the CTRL frame last).

        The pages of one frame ID carry ``counter``, ``counter + 1``, ... (mod 16); a sender
        that keeps one counter per frame ID uses :meth:`encode_settings_frame` instead. Strict:
        an out-of-range value raises :class:`ProtocolError` naming the setting and the signal.
        """
        return self._encode_set(SETTINGS_WRITE_IDS, settings, counter)

    def encode_settings_readback(
        self, settings: InverterSettings, counter: int
    ) -> list[tuple[int, bytes]]:
        """The nine INV_RB_* frames (the inverter's read-back), as :meth:`encode_settings`."""
        return self._encode_set(SETTINGS_READBACK_IDS, settings, counter)

    def encode_settings_frame(
        self, frame_id: int, page: int, settings: InverterSettings, counter: int
    ) -> bytes:
        """One settings write or read-back frame: ``page`` of ``frame_id`` for ``settings``."""
        if frame_id not in SETTINGS_FRAME_IDS:
            raise ProtocolError(f"0x{frame_id:03X} is not an inverter settings frame")
        write_id = frame_id - READBACK_OFFSET if frame_id in SETTINGS_READBACK_IDS else frame_id
        named: list[tuple[str, str, float]] = []  # (field, signal, value)
        values: dict[str, float] = {"AliveCounter": counter}
        if write_id == INV_SET_CTRL_ID:
            if page != 0:
                raise ProtocolError(f"0x{frame_id:03X} has no page {page}")
            for field_name, signal in CTRL_SIGNALS.items():
                raw = getattr(settings, field_name)
                named.append((field_name, signal, float(int(raw)) if isinstance(raw, bool | int)
                              else raw))
        else:
            elements = TRIP_ELEMENTS[write_id]
            if not 0 <= page < len(elements):
                raise ProtocolError(f"0x{frame_id:03X} has no page {page}")
            element = elements[page]
            values["Page"] = page
            upper = element.upper()
            threshold = _threshold_field(write_id, element)
            clearing = _clearing_field(element)
            named.append((threshold, f"{upper}_Threshold", getattr(settings, threshold)))
            named.append((clearing, f"{upper}_ClearTime", getattr(settings, clearing)))
        for _, signal, value in named:
            values[signal] = value
        values["Crc8"] = 0
        try:
            return self._encode(frame_id, values, page)
        except ProtocolError as exc:
            culprit = next((f"{name} = {value!r}" for name, signal, value in named
                            if re.search(rf"\b{signal}\b", str(exc))), "settings")
            raise ProtocolError(f"InverterSettings.{culprit}: {exc}") from exc

    def decode_settings_frame(self, frame_id: int, data: bytes) -> SettingsFrame:
        """A verified settings write or read-back frame (length, CRC, page, ranges)."""
        if frame_id not in SETTINGS_FRAME_IDS:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not an inverter settings frame")
        return self._seen_settings.decode(frame_id, data, self._decode_settings_frame)

    def _decode_settings_frame(self, frame_id: int, data: bytes) -> SettingsFrame:
        v = self._decode(frame_id, data)
        write_id = frame_id - READBACK_OFFSET if frame_id in SETTINGS_READBACK_IDS else frame_id
        pairs: list[tuple[str, float]]
        if write_id == INV_SET_CTRL_ID:
            page = 0
            pairs = [(field_name, v[signal]) for field_name, signal in CTRL_SIGNALS.items()]
        else:
            page = int(v["Page"])
            element = TRIP_ELEMENTS[write_id][page]
            upper = element.upper()
            pairs = [(_threshold_field(write_id, element), v[f"{upper}_Threshold"]),
                     (_clearing_field(element), v[f"{upper}_ClearTime"])]
        return SettingsFrame(frame_id=frame_id, counter=int(v["AliveCounter"]), page=page,
                             values=tuple(pairs))

    @staticmethod
    def assemble_settings(values: Mapping[str, float]) -> InverterSettings:
        """Typed settings from the field values of a complete set (every field present)."""
        missing = [name for name in SETTINGS_FIELDS if name not in values]
        if missing:
            raise ProtocolError(f"incomplete settings: missing {', '.join(missing)}")
        typed: dict[str, object] = {name: float(values[name]) for name in SETTINGS_FIELDS}
        typed["ride_through_category"] = RideThroughCategory(int(values["ride_through_category"]))
        typed["anti_islanding"] = bool(values["anti_islanding"])
        return InverterSettings(**typed)  # type: ignore[arg-type]

    def quantize_settings(self, settings: InverterSettings) -> InverterSettings:
        """``settings`` as they survive the wire (encoded and decoded again): what a correct
        read-back reports. Raises :class:`ProtocolError` when a value cannot be encoded."""
        values: dict[str, float] = {}
        for frame_id, data in self.encode_settings(settings, 0):
            values.update(self.decode_settings_frame(frame_id, data).values)
        return self.assemble_settings(values)

    def _encode_set(
        self, frame_ids: tuple[int, ...], settings: InverterSettings, counter: int
    ) -> list[tuple[int, bytes]]:
        frames: list[tuple[int, bytes]] = []
        for write_id, page in SETTINGS_SLOTS:
            frame_id = frame_ids[SETTINGS_WRITE_IDS.index(write_id)]
            value = (counter + page) % (_COUNTER_MASK + 1)
            frames.append((frame_id, self.encode_settings_frame(frame_id, page, settings, value)))
        return frames

    def forget(self, seen_frames_only: bool = False) -> None:
        """Drop remembered work, for benchmarks of the uncached costs: the frames remembered by
        their exact bytes and, unless ``seen_frames_only``, the per-payload caches too."""
        if not seen_frames_only:
            self._encoded.clear()
            self._decoded.clear()
        self._seen_status = _SeenFrames()
        self._seen_commands = _SeenFrames()
        self._seen_settings = _SeenFrames()

    @staticmethod
    def reseal(frame_id: int, data: bytes, counter: int) -> bytes:
        """``data`` (an encoded frame of ``frame_id``) with alive counter ``counter`` and the CRC
        that goes with it: a sender whose values did not change re-sends its last frame."""
        _check_counter(frame_id, counter)
        return _sealed(frame_id, data, counter)

    # --- internals ----------------------------------------------------------------------------

    def _message(self, frame_id: int) -> Message:
        try:
            return self._messages[frame_id]
        except KeyError:
            raise FrameError(UNKNOWN_ID, f"unknown inverter frame 0x{frame_id:03X}") from None

    def _encode(self, frame_id: int, values: dict[str, float], page: int = 0) -> bytes:
        counter = int(values["AliveCounter"])
        _check_counter(frame_id, counter)
        key = tuple(v for k, v in values.items() if k != "AliveCounter")
        cached = self._encoded.get((frame_id, page))
        if cached is not None and cached[0] == key:
            payload = cached[1]  # same values as last time: only the counter differs
        else:
            encoded = encode_strict(self._message(frame_id), values)
            payload = bytes([encoded[0] & ~_COUNTER_MASK & 0xFF]) + encoded[1:]
            self._encoded[(frame_id, page)] = (key, payload)
        return _sealed(frame_id, payload, counter)

    def _decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        message = self._message(frame_id)
        check_length(message, data)
        if not crc_ok(frame_id, data):
            raise FrameError(BAD_CRC, f"{message.name}: bad CRC")
        key = bytes([data[0] & ~_COUNTER_MASK & 0xFF]) + bytes(data[1:CRC_BYTE])
        multiplexed = frame_id in self._multiplexed
        slot = (frame_id, data[0] >> 4 if multiplexed else 0)
        cached = self._decoded.get(slot)
        if cached is not None and cached[0] == key:
            values = dict(cached[1])  # checked before; only the counter is new
        else:
            values = _decode_paged(message, data) if multiplexed else decode_checked(message, data)
            self._decoded[slot] = (key, dict(values))
        values["AliveCounter"] = data[0] & _COUNTER_MASK
        return values

    def _signal_bounds(self, frame_id: int, signal_name: str) -> _Bounds:
        """(minimum, maximum, scale, offset) of one signal, from the DBC (cached)."""
        bounds = self._bounds.get((frame_id, signal_name))
        if bounds is None:
            signal = self._message(frame_id).get_signal_by_name(signal_name)
            bounds = (-math.inf if signal.minimum is None else float(signal.minimum),
                      math.inf if signal.maximum is None else float(signal.maximum),
                      float(signal.scale), float(signal.offset))
            self._bounds[(frame_id, signal_name)] = bounds
        return bounds


_Bounds = tuple[float, float, float, float]  # minimum, maximum, scale, offset
# One decoded frame per alive counter value and page (settings frames have up to 4 pages).
_SEEN_PER_FRAME: Final = (_COUNTER_MASK + 1) * 4
_T = TypeVar("_T")


class _SeenFrames(Generic[_T]):
    """Decoded frames by frame ID and exact bytes. A sender whose values do not change repeats
    the same few frames (one per alive counter value): each is checked and decoded once, then
    served from here (decoded frames are immutable). Bounded: a frame ID's entries are dropped
    when it reaches :data:`_SEEN_PER_FRAME`. Only frames that passed every check get in."""

    def __init__(self) -> None:
        self._by_id: dict[int, dict[bytes, _T]] = {}

    def decode(self, frame_id: int, data: bytes, decode: Callable[[int, bytes], _T]) -> _T:
        key = bytes(data)
        seen = self._by_id.setdefault(frame_id, {})
        known = seen.get(key)
        if known is not None:
            return known
        frame = decode(frame_id, key)  # raises FrameError for a bad frame: nothing stored
        if len(seen) >= _SEEN_PER_FRAME:
            seen.clear()
        seen[key] = frame
        return frame


def _check_counter(frame_id: int, counter: int) -> None:
    if not 0 <= counter <= _COUNTER_MASK:
        raise ProtocolError(f"frame 0x{frame_id:03X}: AliveCounter {counter} is not 0..15")


def _sealed(frame_id: int, data: bytes, counter: int) -> bytes:
    """``data`` with its counter nibble replaced by ``counter`` (0..15) and the CRC redone."""
    return seal_frame(frame_id, bytes([data[0] & ~_COUNTER_MASK & 0xFF | counter]) + data[1:])


def _clamp_to(bounds: _Bounds, value: float) -> float:
    """``value`` saturated to the signal's range and rounded to its resolution (NaN passes:
    the strict encoder refuses it with the signal named)."""
    if math.isnan(value):
        return value
    low, high, scale, offset = bounds
    inside = low if value < low else high if value > high else value
    steps = round((inside - offset) / scale)
    resolved = round(steps * scale + offset, _DECIMALS)
    return low if resolved < low else high if resolved > high else resolved


_RANGE_TOLERANCE: Final = 1e-6  # in units of the signal's scale, as dbc_frames.decode_checked
_DECIMALS: Final = 6


def _decode_paged(message: Message, data: bytes) -> dict[str, float]:
    """:func:`decode_checked` for a multiplexed message: only the selected page's signals."""
    try:
        decoded = message.decode(bytes(data), decode_choices=False, scaling=True)
    except cantools.database.DecodeError as exc:  # a page the DBC does not define
        raise FrameError(OUT_OF_RANGE, f"{message.name}: out of range: {exc}") from exc
    if not isinstance(decoded, Mapping):
        raise ProtocolError(f"{message.name}: container messages are not supported")
    values: dict[str, float] = {}
    for name, raw in decoded.items():
        if not isinstance(raw, int | float):
            raise ProtocolError(f"{message.name}: signal {name} decoded to {raw!r}")
        signal = message.get_signal_by_name(name)
        value = round(float(raw), _DECIMALS)
        tolerance = abs(signal.scale) * _RANGE_TOLERANCE
        low, high = signal.minimum, signal.maximum
        if (low is not None and value < low - tolerance) or (
            high is not None and value > high + tolerance
        ):
            raise FrameError(
                OUT_OF_RANGE,
                f"{message.name}: out of range: {name}={value:g} (allowed {low}..{high})",
            )
        values[name] = value
    return values
