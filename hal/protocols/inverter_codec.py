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
from typing import Final

from cantools.database.can import Message

from hal.errors import ProtocolError
from hal.protocols.dbc_frames import (
    BAD_CRC,
    UNKNOWN_ID,
    FrameError,
    check_length,
    decode_checked,
    encode_saturated,
    encode_strict,
    load_database,
)
from hal.protocols.e2e import CRC_BYTE, crc_ok
from hal.protocols.inverter_frames import (
    COUNTER_MASK,
    INV_CMD_ID,
    INV_FAULT_ID,
    INV_RB_CTRL_ID,
    INV_SET_CTRL_ID,
    INV_STATUS2_ID,
    INV_STATUS_ID,
    SETTINGS_FRAME_IDS,
    SETTINGS_READBACK_IDS,
    SETTINGS_SLOTS,
    SETTINGS_WRITE_IDS,
    STATUS_FRAME_IDS,
    CommandFrame,
    FaultFrame,
    InverterStatusFrame,
    SettingsFrame,
    Status2Frame,
    StatusFrame,
    assemble_settings,
    settings_pairs,
    settings_signals,
)
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterSettings,
    InverterState,
    InverterStatus,
)
from hal.protocols.inverter_wire import (
    Bounds,
    SeenFrames,
    check_counter,
    clamp_to,
    decode_paged,
    sealed,
)

_MS_PER_S: Final = 1000.0
_LIMIT_EPSILON_A: Final = 1e-6  # float noise allowed before a current limit is floored
_COUNTERS: Final = COUNTER_MASK + 1  # alive counter values 0..15


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
        # With it, the sealed frame for each counter value, made when first sent.
        self._encoded: dict[tuple[int, int],
                            tuple[tuple[object, ...], bytes, list[bytes | None]]] = {}
        self._decoded: dict[tuple[int, int], tuple[bytes, dict[str, float]]] = {}
        self._bounds: dict[tuple[int, str], Bounds] = {}
        self._seen_status: SeenFrames[InverterStatusFrame] = SeenFrames()
        self._seen_commands: SeenFrames[CommandFrame] = SeenFrames()
        self._seen_settings: SeenFrames[SettingsFrame] = SeenFrames()
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

    def encode_status_frame(self, frame_id: int, status: InverterStatus, counter: int,
                            clamped: bool = False) -> bytes:
        """One of INV_STATUS / INV_STATUS2 / INV_FAULT for ``status``. ``clamped``: ``status``
        came from :meth:`clamp_status`, so INV_STATUS and INV_STATUS2 skip the DBC range check
        (:func:`encode_saturated`; a non-finite value is still refused). INV_FAULT's words are
        not saturated: always checked."""
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
            clamped = False
        else:
            raise ProtocolError(f"0x{frame_id:03X} is not an inverter status frame")
        values.update({"AliveCounter": counter, "Crc8": 0})
        return self._encode(frame_id, values, saturated=clamped)

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
            dc_voltage_v=clamp_to(v_dc, status.dc_voltage_v),
            dc_current_a=clamp_to(i_dc, status.dc_current_a),
            ac_power_w=clamp_to(p_ac, status.ac_power_w),
            ac_voltage_v=clamp_to(v_ac, status.ac_voltage_v),
            ac_frequency_hz=clamp_to(f_ac, status.ac_frequency_hz),
            reactive_power_var=clamp_to(q_ac, status.reactive_power_var),
            temperature_c=clamp_to(temp, status.temperature_c),
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
        named = settings_signals(frame_id, page, settings)  # (field, signal, value)
        values: dict[str, float] = {"AliveCounter": counter}
        if frame_id not in (INV_SET_CTRL_ID, INV_RB_CTRL_ID):
            values["Page"] = page
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
        page = 0 if frame_id in (INV_SET_CTRL_ID, INV_RB_CTRL_ID) else int(v["Page"])
        pairs = settings_pairs(frame_id, page, v)
        return SettingsFrame(frame_id=frame_id, counter=int(v["AliveCounter"]), page=page,
                             values=tuple(pairs))

    assemble_settings = staticmethod(assemble_settings)

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
            value = (counter + page) % (COUNTER_MASK + 1)
            frames.append((frame_id, self.encode_settings_frame(frame_id, page, settings, value)))
        return frames

    def forget(self, seen_frames_only: bool = False) -> None:
        """Drop remembered work, for benchmarks of the uncached costs: the frames remembered by
        their exact bytes and, unless ``seen_frames_only``, the per-payload caches too."""
        if not seen_frames_only:
            self._encoded.clear()
            self._decoded.clear()
        self._seen_status = SeenFrames()
        self._seen_commands = SeenFrames()
        self._seen_settings = SeenFrames()

    @staticmethod
    def reseal(frame_id: int, data: bytes, counter: int) -> bytes:
        """``data`` (an encoded frame of ``frame_id``) with alive counter ``counter`` and the CRC
        that goes with it: a sender whose values did not change re-sends its last frame."""
        check_counter(frame_id, counter)
        return sealed(frame_id, data, counter)

    # --- internals ----------------------------------------------------------------------------

    def _message(self, frame_id: int) -> Message:
        try:
            return self._messages[frame_id]
        except KeyError:
            raise FrameError(UNKNOWN_ID, f"unknown inverter frame 0x{frame_id:03X}") from None

    def _encode(self, frame_id: int, values: dict[str, float], page: int = 0,
                saturated: bool = False) -> bytes:
        """The sealed frame for ``values`` (built by the caller for this call: its
        AliveCounter entry is zeroed here to key the payload memo)."""
        counter = int(values["AliveCounter"])
        check_counter(frame_id, counter)
        values["AliveCounter"] = 0  # the payload's counter nibble is cleared below anyway
        key = tuple(values.values())
        cached = self._encoded.get((frame_id, page))
        if cached is None or cached[0] != key:
            encode = encode_saturated if saturated else encode_strict
            encoded = encode(self._message(frame_id), values)
            payload = bytes([encoded[0] & ~COUNTER_MASK & 0xFF]) + encoded[1:]
            cached = self._encoded[(frame_id, page)] = (key, payload, [None] * _COUNTERS)
        # Same values as last time: only the counter differs, and with the same counter the
        # same sealed frame (a sender whose values hold repeats 16 frames in turn).
        frame = cached[2][counter]
        if frame is None:
            frame = cached[2][counter] = sealed(frame_id, cached[1], counter)
        return frame

    def _decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        message = self._message(frame_id)
        check_length(message, data)
        if not crc_ok(frame_id, data):
            raise FrameError(BAD_CRC, f"{message.name}: bad CRC")
        key = bytes([data[0] & ~COUNTER_MASK & 0xFF]) + bytes(data[1:CRC_BYTE])
        multiplexed = frame_id in self._multiplexed
        slot = (frame_id, data[0] >> 4 if multiplexed else 0)
        cached = self._decoded.get(slot)
        if cached is not None and cached[0] == key:
            values = dict(cached[1])  # checked before; only the counter is new
        else:
            values = decode_paged(message, data) if multiplexed else decode_checked(message, data)
            self._decoded[slot] = (key, dict(values))
        values["AliveCounter"] = data[0] & COUNTER_MASK
        return values

    def _signal_bounds(self, frame_id: int, signal_name: str) -> Bounds:
        """(minimum, maximum, scale, offset) of one signal, from the DBC (cached)."""
        bounds = self._bounds.get((frame_id, signal_name))
        if bounds is None:
            signal = self._message(frame_id).get_signal_by_name(signal_name)
            bounds = (-math.inf if signal.minimum is None else float(signal.minimum),
                      math.inf if signal.maximum is None else float(signal.maximum),
                      float(signal.scale), float(signal.offset))
            self._bounds[(frame_id, signal_name)] = bounds
        return bounds

