"""Typed encode/decode of the controller<->inverter frames (``inverter.dbc``) with E2E checks.

The codec is stateless: it fills in and verifies the CRC and range-checks every signal, but the
alive counter's progression is the receiver's job (it needs the previous frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from cantools.database.can import Message

from hal.errors import ProtocolError
from hal.protocols.dbc_frames import (
    BAD_CRC,
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
    InverterState,
    InverterStatus,
)

_COUNTER_MASK: Final = 0x0F  # the alive counter is the low nibble of byte 0 in every frame
INV_CMD_ID: Final = 0x100
INV_STATUS_ID: Final = 0x180
INV_STATUS2_ID: Final = 0x181
INV_FAULT_ID: Final = 0x182
STATUS_FRAME_IDS: Final = (INV_STATUS_ID, INV_STATUS2_ID, INV_FAULT_ID)

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
            for frame_id in (INV_CMD_ID, *STATUS_FRAME_IDS)
        }
        # Per frame ID, the last payload with its counter nibble cleared, and what it encodes:
        # a frame that differs only in its alive counter is not run through cantools again.
        self._encoded: dict[int, tuple[tuple[object, ...], bytes]] = {}
        self._decoded: dict[int, tuple[bytes, dict[str, float]]] = {}
        self._bounds: dict[tuple[int, str], tuple[float, float]] = {}

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
        """``status`` with every analogue value saturated to what the frames can carry.

        A real inverter's firmware saturates its measurements; the simulator uses this so that
        a physics excursion (say 1001 V DC) is reported as the full-scale value, not an error.
        """
        return InverterStatus(
            state=status.state,
            dc_voltage_v=self._clamp(INV_STATUS_ID, "V_Dc", status.dc_voltage_v),
            dc_current_a=self._clamp(INV_STATUS_ID, "I_Dc", status.dc_current_a),
            ac_power_w=self._clamp(INV_STATUS_ID, "P_Ac", status.ac_power_w),
            ac_voltage_v=self._clamp(INV_STATUS2_ID, "V_Ac", status.ac_voltage_v),
            ac_frequency_hz=self._clamp(INV_STATUS2_ID, "F_Ac", status.ac_frequency_hz),
            reactive_power_var=self._clamp(INV_STATUS2_ID, "Q_Ac", status.reactive_power_var),
            temperature_c=self._clamp(INV_STATUS2_ID, "Temp", status.temperature_c),
            fault_word=status.fault_word,
            warning_word=status.warning_word,
        )

    # --- decoding -----------------------------------------------------------------------------

    def decode_command(self, frame_id: int, data: bytes) -> CommandFrame:
        """A verified INV_CMD (length, CRC, ranges); raises :class:`FrameError`."""
        if frame_id != INV_CMD_ID:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not INV_CMD")
        v = self._decode(frame_id, data)
        command = InverterCommand(
            mode=InverterMode(int(v["Mode"])),
            enable=bool(v["Enable"]),
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
        v = self._decode(frame_id, data)
        counter = int(v["AliveCounter"])
        if frame_id == INV_STATUS_ID:
            return StatusFrame(
                counter=counter,
                state=InverterState(int(v["State"])),
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

    # --- internals ----------------------------------------------------------------------------

    def _message(self, frame_id: int) -> Message:
        try:
            return self._messages[frame_id]
        except KeyError:
            raise FrameError(UNKNOWN_ID, f"unknown inverter frame 0x{frame_id:03X}") from None

    def _encode(self, frame_id: int, values: dict[str, float]) -> bytes:
        counter = int(values["AliveCounter"])
        key = tuple(v for k, v in values.items() if k != "AliveCounter")
        cached = self._encoded.get(frame_id)
        if cached is not None and cached[0] == key:
            payload = cached[1]  # same values as last time: only the counter differs
        else:
            encoded = encode_strict(self._message(frame_id), values)
            payload = bytes([encoded[0] & ~_COUNTER_MASK & 0xFF]) + encoded[1:]
            self._encoded[frame_id] = (key, payload)
        return seal_frame(frame_id, bytes([payload[0] | counter]) + payload[1:])

    def _decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        message = self._message(frame_id)
        check_length(message, data)
        if not crc_ok(frame_id, data):
            raise FrameError(BAD_CRC, f"{message.name}: bad CRC")
        key = bytes([data[0] & ~_COUNTER_MASK & 0xFF]) + bytes(data[1:CRC_BYTE])
        cached = self._decoded.get(frame_id)
        if cached is not None and cached[0] == key:
            values = dict(cached[1])  # checked before; only the counter is new
        else:
            values = decode_checked(message, data)
            self._decoded[frame_id] = (key, dict(values))
        values["AliveCounter"] = data[0] & _COUNTER_MASK
        return values

    def _clamp(self, frame_id: int, signal_name: str, value: float) -> float:
        if math.isnan(value):
            return value  # refused by the strict encoder with the signal named
        bounds = self._bounds.get((frame_id, signal_name))
        if bounds is None:
            signal = self._message(frame_id).get_signal_by_name(signal_name)
            bounds = (-math.inf if signal.minimum is None else float(signal.minimum),
                      math.inf if signal.maximum is None else float(signal.maximum))
            self._bounds[(frame_id, signal_name)] = bounds
        return min(bounds[1], max(bounds[0], value))
