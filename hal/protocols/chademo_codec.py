"""CHAdeMO vehicle frames (``chademo.dbc``) <-> :class:`EvReport`.

The simulated EV encodes its report into the four vehicle frames; the controller feeds received
frames to :class:`ChademoVehicleDecoder`, which validates each one (length and DBC ranges; CHAdeMO
has no CRC or counter) and assembles a report once all four are fresh.

The inverted wire format of 0x200 byte 0 (``0xFF - A``) is handled by the DBC (factor -1,
offset 255), so the typed value is always in amps.
"""

from __future__ import annotations

from typing import Final

from cantools.database.can import Message

from hal.errors import ProtocolError
from hal.protocols.dbc_frames import (
    UNKNOWN_ID,
    FrameError,
    decode_checked,
    encode_strict,
    load_database,
)
from hal.protocols.ev_messages import EvReport

EV_BATTERY_LIMITS_ID: Final = 0x100
EV_CHARGING_TIME_ID: Final = 0x101
EV_CHARGE_STATUS_ID: Final = 0x102
EV_DISCHARGE_LIMITS_ID: Final = 0x200
CHARGER_CAPABILITY_ID: Final = 0x108
CHARGER_STATUS_ID: Final = 0x109
VEHICLE_FRAME_IDS: Final = (
    EV_BATTERY_LIMITS_ID,
    EV_CHARGING_TIME_ID,
    EV_CHARGE_STATUS_ID,
    EV_DISCHARGE_LIMITS_ID,
)
EXTRA_VEHICLE_IDS: Final = (0x110, 0x201)  # CHAdeMO 2.0 functions, V2H sequence: kept
REQUIRED_FRAME_IDS: Final = (EV_BATTERY_LIMITS_ID, EV_CHARGING_TIME_ID, EV_CHARGE_STATUS_ID)
NO_DISCHARGE: Final[dict[str, float]] = {"MaxDischargeCurrent": 0.0, "MinDischargeVoltage": 0.0,
                                         "MinDischargeLevel": 0.0,
                                         "MaxRemainingCapacityForCharging": 0.0}
CHADEMO_CYCLE_S: Final = 0.100

FULL_SOC_PCT: Final = 100.0
CHARGED_RATE_REF_PERCENT: Final = 100  # 0x64: ChargedRate is then plain percent
FAULT_BIT_SIGNALS: Final = (  # 0x102 byte 4, bit 0 first
    "FaultBatteryOverVoltage",
    "FaultBatteryUnderVoltage",
    "FaultCurrentDeviation",
    "FaultHighBatteryTemp",
    "FaultVoltageDeviation",
)
FAULT_FLAGS_MASK: Final = (1 << len(FAULT_BIT_SIGNALS)) - 1

# What the simulated EV puts in fields that EvReport does not carry.
SIM_MIN_CHARGE_CURRENT_A: Final = 0
SIM_MAX_CHARGING_TIME_10S_UNUSED_S: Final = 2550  # raw 0xFF: "use the 1-minute field"
SIM_MAX_CHARGING_TIME_MIN: Final = 255
SIM_ESTIMATED_CHARGING_TIME_MIN: Final = 0
SIM_MAX_REMAINING_CAPACITY_UNUSED: Final = 0


class ChademoCodec:
    """Encode the vehicle frames of an :class:`EvReport`; decode and check single frames."""

    def __init__(self) -> None:
        db = load_database("chademo")
        self._messages: dict[int, Message] = {
            frame_id: db.get_message_by_frame_id(frame_id)
            for frame_id in (*VEHICLE_FRAME_IDS, *EXTRA_VEHICLE_IDS, CHARGER_CAPABILITY_ID,
                             CHARGER_STATUS_ID)
        }

    def encode_vehicle_frames(self, report: EvReport) -> list[tuple[int, bytes]]:
        """The four vehicle frames (0x100, 0x101, 0x102, 0x200) for ``report``, strictly."""
        if report.fault_flags & ~FAULT_FLAGS_MASK or report.fault_flags < 0:
            raise ProtocolError(
                f"EV_ChargeStatus: fault_flags 0x{report.fault_flags:X} has bits outside "
                f"0x{FAULT_FLAGS_MASK:02X}"
            )
        limits = {
            "MinChargeCurrent": SIM_MIN_CHARGE_CURRENT_A,
            "MinBatteryVoltage": report.min_battery_voltage_v,
            "MaxBatteryVoltage": report.max_battery_voltage_v,
            "ChargedRateRefConst": report.charged_rate_ref,
        }
        timing = {
            "MaxChargingTime10s": SIM_MAX_CHARGING_TIME_10S_UNUSED_S,
            "MaxChargingTime1min": SIM_MAX_CHARGING_TIME_MIN,
            "EstimatedChargingTime": SIM_ESTIMATED_CHARGING_TIME_MIN,
            "BatteryCapacity": report.capacity_kwh,
        }
        status: dict[str, float] = {
            "ProtocolNumber": report.protocol_number,
            "TargetBatteryVoltage": report.target_voltage_v,
            "ChargeCurrentRequest": report.charge_current_request_a,
            "StatusChargingEnabled": int(report.charging_enabled),
            "StatusShiftNotPark": int(report.shift_not_park),
            "StatusChargingSystemFault": int(report.system_fault),
            "StatusContactorOpen": int(report.contactor_open),
            "StatusNormalStopRequest": int(report.normal_stop_request),
            "StatusDischargeCompatible": int(report.discharge_compatible),
            "ChargedRate": report.soc_pct,
        }
        for bit, name in enumerate(FAULT_BIT_SIGNALS):
            status[name] = (report.fault_flags >> bit) & 1
        discharge = {
            "MaxDischargeCurrent": report.max_discharge_current_a,
            "MinDischargeVoltage": report.min_discharge_voltage_v,
            "MinDischargeLevel": report.min_discharge_soc_pct,
            "MaxRemainingCapacityForCharging": SIM_MAX_REMAINING_CAPACITY_UNUSED,
        }
        payloads = {
            EV_BATTERY_LIMITS_ID: limits,
            EV_CHARGING_TIME_ID: timing,
            EV_CHARGE_STATUS_ID: status,
            EV_DISCHARGE_LIMITS_ID: discharge,
        }
        return [
            (frame_id, encode_strict(self._messages[frame_id], values))
            for frame_id, values in payloads.items()
        ]

    def decode_vehicle_frame(self, frame_id: int, data: bytes) -> dict[str, float]:
        """Physical signal values of one vehicle frame; raises :class:`FrameError`."""
        if frame_id not in VEHICLE_FRAME_IDS and frame_id not in EXTRA_VEHICLE_IDS:
            raise FrameError(UNKNOWN_ID, f"0x{frame_id:03X} is not a CHAdeMO vehicle frame")
        return decode_checked(self._messages[frame_id], data)


def _soc_pct(charged_rate: float, reference: float) -> float:
    """State of charge in percent from ChargedRate and its reference constant (0 = percent)."""
    soc = charged_rate if reference <= 0 else charged_rate * FULL_SOC_PCT / reference
    return min(FULL_SOC_PCT, soc)


class ChademoVehicleDecoder:
    """Keeps the newest valid copy of each vehicle frame and assembles an :class:`EvReport`."""

    def __init__(self, codec: ChademoCodec | None = None) -> None:
        self._codec = codec if codec is not None else ChademoCodec()
        self._frames: dict[int, tuple[float, dict[str, float]]] = {}
        self._raw: dict[int, bytes] = {}
        self._last_report: tuple[tuple[dict[str, float], ...], EvReport] | None = None

    def feed(self, frame_id: int, data: bytes, now: float) -> None:
        """Store a received frame; raises :class:`FrameError` (and stores nothing) if it is bad."""
        previous = self._frames.get(frame_id)
        if previous is not None and self._raw.get(frame_id) == data:
            values = previous[1]  # the same bytes decode the same way: skip the codec
        else:
            values = self._codec.decode_vehicle_frame(frame_id, data)
            self._raw[frame_id] = bytes(data)
        self._frames[frame_id] = (now, values)

    def frame_age(self, frame_id: int, now: float) -> float:
        """Seconds since ``frame_id`` was last stored (``inf`` when never)."""
        entry = self._frames.get(frame_id)
        return float("inf") if entry is None else now - entry[0]

    def clear(self) -> None:
        """Forget every frame (e.g. when the connector is unplugged)."""
        self._frames.clear()
        self._raw.clear()
        self._last_report = None

    def report(self, now: float, stale_after_s: float) -> EvReport | None:
        """The report from the vehicle's frames, or None when 0x100, 0x101 or 0x102 is missing
        or older than the limit (0x200 is optional: without it, no discharge)."""
        frames = self._frames  # (frame_age's arithmetic, without a call per frame: every tick)
        for fid in REQUIRED_FRAME_IDS:
            entry = frames.get(fid)
            if entry is None or now - entry[0] > stale_after_s:
                return None
        limits = frames[EV_BATTERY_LIMITS_ID][1]
        timing = frames[EV_CHARGING_TIME_ID][1]
        status = frames[EV_CHARGE_STATUS_ID][1]
        # A charge-only car need not send 0x200 (and a car's first 0x200 are placeholders the
        # DBC ranges reject): without a fresh one it offers no discharge.
        fresh = self.frame_age(EV_DISCHARGE_LIMITS_ID, now) <= stale_after_s
        discharge = frames[EV_DISCHARGE_LIMITS_ID][1] if fresh else NO_DISCHARGE
        sources = (limits, timing, status, discharge)
        last = self._last_report
        if last is not None and last[0][0] is limits and last[0][1] is timing and (
                last[0][2] is status and last[0][3] is discharge):
            return last[1]  # the same decoded frames (``feed`` keeps them for unchanged bytes)
        report = self._assemble(limits, timing, status, discharge)
        self._last_report = (sources, report)
        return report

    @staticmethod
    def _assemble(limits: dict[str, float], timing: dict[str, float], status: dict[str, float],
                  discharge: dict[str, float]) -> EvReport:
        fault_flags = 0
        for bit, name in enumerate(FAULT_BIT_SIGNALS):
            fault_flags |= int(status[name]) << bit
        return EvReport(
            soc_pct=_soc_pct(status["ChargedRate"], limits["ChargedRateRefConst"]),
            capacity_kwh=timing["BatteryCapacity"],
            min_battery_voltage_v=limits["MinBatteryVoltage"],
            max_battery_voltage_v=limits["MaxBatteryVoltage"],
            target_voltage_v=status["TargetBatteryVoltage"],
            charge_current_request_a=status["ChargeCurrentRequest"],
            max_discharge_current_a=discharge["MaxDischargeCurrent"],
            min_discharge_voltage_v=discharge["MinDischargeVoltage"],
            min_discharge_soc_pct=discharge_level_pct(
                discharge["MinDischargeLevel"], discharge["MaxRemainingCapacityForCharging"],
                round(timing["BatteryCapacity"] * CAPACITY_RAW_PER_KWH)),
            charging_enabled=bool(status["StatusChargingEnabled"]),
            discharge_compatible=bool(status["StatusDischargeCompatible"]),
            fault_flags=fault_flags,
            protocol_number=int(status["ProtocolNumber"]),
            contactor_open=bool(status["StatusContactorOpen"]),
            normal_stop_request=bool(status["StatusNormalStopRequest"]),
            shift_not_park=bool(status["StatusShiftNotPark"]),
            system_fault=bool(status["StatusChargingSystemFault"]),
            charged_rate_ref=int(limits["ChargedRateRefConst"]),
        )


CAPACITY_RAW_PER_KWH = 10  # 0x101 bytes 5-6: 0.1 kWh per bit
PERCENT_MAX = 100.0


def discharge_level_pct(level: float, maximum: float, capacity_raw: int) -> float:
    """The vehicle's minimum discharge level (0x200 byte 6) in percent.

    The Leaf ZE1 sends percent (10 / 100 in bytes 6 / 7); pre-V2H-1.0 Leafs send units of the
    0x101 capacity (67 / 178 against 222: 30 % / 80 %; the recorded sessions,
    ``../shared/reference/chademo.md``). A byte above 100 cannot be percent: then both are in
    capacity units. Otherwise percent, which is the higher (safer) floor of the two readings
    for any battery above 10 kWh. Without a capacity the level is unknown: 100 % (no
    discharge)."""
    if level <= PERCENT_MAX and maximum <= PERCENT_MAX:
        return float(level)
    if capacity_raw <= 0:
        return PERCENT_MAX
    return min(PERCENT_MAX, PERCENT_MAX * level / capacity_raw)

