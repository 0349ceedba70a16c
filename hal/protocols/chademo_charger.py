"""CHAdeMO charger frames (``chademo.dbc``: 0x108, 0x109, 0x118, 0x208, 0x209) <-> typed values.

The controller's EV session (``controller/ev/chademo/``) encodes a :class:`ChargerFrames` every
100 ms; the simulated EV (``hal/sim/ev/``) and the replay tests decode the same frames with
:meth:`ChargerCodec.decode`. The inverted current fields of 0x208 are handled by the DBC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cantools.database.can import Message

from hal.protocols.dbc_frames import (
    UNKNOWN_ID,
    FrameError,
    decode_checked,
    encode_strict,
    load_database,
)

CHARGER_CAPABILITY_ID: Final = 0x108
CHARGER_STATUS_ID: Final = 0x109
CHARGER_EXTENDED_ID: Final = 0x118
CHARGER_DISCHARGE_ID: Final = 0x208
CHARGER_DISCHARGE_SEQUENCE_ID: Final = 0x209
CHARGER_FRAME_IDS: Final = (CHARGER_CAPABILITY_ID, CHARGER_STATUS_ID, CHARGER_EXTENDED_ID,
                            CHARGER_DISCHARGE_ID, CHARGER_DISCHARGE_SEQUENCE_ID)
PROTOCOL_2_0: Final = 3  # control protocol number of CHAdeMO 2.0: 0x118 is sent
WELDING_DETECTION_SUPPORTED: Final = 1
V2H_SEQUENCE_NUMBER: Final = 2  # 0x209 byte 0 as the real bidirectional chargers send it
REMAINING_DISCHARGE_TIME: Final = 5  # Clara's "discharge indefinitely" value
REMAINING_TIME_UNUSED_10S: Final = 2550  # raw 0xFF: use the 1-minute field
REMAINING_TIME_MIN: Final = 60


@dataclass(frozen=True, slots=True)
class ChargerFrames:
    """Everything the charger says in one 100 ms cycle."""

    protocol_number: int
    available_voltage_v: float
    available_current_a: float
    threshold_voltage_v: float
    present_voltage_v: float
    present_current_a: float
    charging: bool  # 109.5.0
    malfunction: bool  # 109.5.1
    connector_locked: bool  # 109.5.2 (a lock flag, as the real chargers use it)
    battery_incompatible: bool  # 109.5.3
    system_malfunction: bool  # 109.5.4
    stop_control: bool  # 109.5.5: 1 before start and during stop
    discharge: DischargeFrames | None = None  # 0x208/0x209 and 109.4: only once agreed


@dataclass(frozen=True, slots=True)
class DischargeFrames:
    present_discharge_current_a: float
    available_input_voltage_v: float
    available_input_current_a: float
    lower_threshold_voltage_v: float


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, round(value)))


class ChargerCodec:
    """Encode a :class:`ChargerFrames` into its CAN frames; decode one received charger frame."""

    def __init__(self) -> None:
        db = load_database("chademo")
        self._messages: dict[int, Message] = {
            fid: db.get_message_by_frame_id(fid) for fid in CHARGER_FRAME_IDS}

    def encode(self, frames: ChargerFrames) -> list[tuple[int, bytes]]:
        """The cycle's frames in the order real chargers send them (0x108, 0x109, ...)."""
        discharge = frames.discharge
        out = [
            (CHARGER_CAPABILITY_ID, {
                "WeldingDetectionSupport": WELDING_DETECTION_SUPPORTED,
                "AvailableOutputVoltage": _clamp(frames.available_voltage_v, 0, 1000),
                "AvailableOutputCurrent": _clamp(frames.available_current_a, 0, 255),
                "ThresholdVoltage": _clamp(frames.threshold_voltage_v, 0, 1000)}),
            (CHARGER_STATUS_ID, {
                "ProtocolNumber": frames.protocol_number,
                "PresentOutputVoltage": _clamp(frames.present_voltage_v, 0, 1000),
                "PresentChargingCurrent": _clamp(frames.present_current_a, 0, 255),
                "DischargeCompatible": int(discharge is not None),
                "StatusCharging": int(frames.charging),
                "StatusChargerMalfunction": int(frames.malfunction),
                "StatusConnectorLocked": int(frames.connector_locked),
                "StatusBatteryIncompatible": int(frames.battery_incompatible),
                "StatusChargingSystemMalfunction": int(frames.system_malfunction),
                "StatusChargerStopControl": int(frames.stop_control),
                "RemainingChargingTime10s": REMAINING_TIME_UNUSED_10S,
                "RemainingChargingTime1min": REMAINING_TIME_MIN}),
        ]
        if frames.protocol_number >= PROTOCOL_2_0:
            out.append((CHARGER_EXTENDED_ID, {"ChgDynamicControl": 0,
                                              "ChgHighCurrentControl": 0,
                                              "ChgHighVoltageControl": 0}))
        if discharge is not None:
            out.append((CHARGER_DISCHARGE_ID, {
                "PresentDischargeCurrent": _clamp(discharge.present_discharge_current_a, 0, 255),
                "AvailableInputVoltage": _clamp(discharge.available_input_voltage_v, 0, 1000),
                "AvailableInputCurrent": _clamp(discharge.available_input_current_a, 0, 255),
                "LowerThresholdVoltage": _clamp(discharge.lower_threshold_voltage_v, 0, 1000)}))
            out.append((CHARGER_DISCHARGE_SEQUENCE_ID, {
                "V2hSequenceNumber": V2H_SEQUENCE_NUMBER,
                "RemainingDischargeTime": REMAINING_DISCHARGE_TIME}))
        return [(fid, encode_strict(self._messages[fid], values)) for fid, values in out]

    def decode(self, frame_id: int, data: bytes) -> dict[str, float]:
        """Physical values of one charger frame; raises :class:`FrameError`."""
        message = self._messages.get(frame_id)
        if message is None:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not a CHAdeMO charger frame")
        return decode_checked(message, data)
