"""Charging profiles as the station keeps them: parsed from a SetChargingProfile, checked once.

The library has already validated the message against the OCPP JSON schema; this adds what a
schema cannot say: finite numbers, periods in order starting at 0, the operation modes this
station implements, units it can convert, times it can read. A profile that fails is rejected
with the reason (the CSMS sees it in ``statusInfo``) and the installed stack is unchanged.
Limits are kept in watts: + charging the EV, - discharging it (OCPP's sign convention).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_PURPOSE = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = (MAX_PURPOSE, EXTERNAL, TX_DEFAULT, TX)
KINDS = ("Absolute", "Relative", "Recurring")
RECURRENCY_S = {"Daily": 86_400.0, "Weekly": 604_800.0}

CHARGING_ONLY = "ChargingOnly"
IDLE = "Idle"
CENTRAL_SETPOINT = "CentralSetpoint"
EXTERNAL_LIMITS = "ExternalLimits"
OPERATION_MODES = (CHARGING_ONLY, IDLE, CENTRAL_SETPOINT, EXTERNAL_LIMITS)
NOT_BUILT_MODES = ("ExternalSetpoint", "CentralFrequency", "LocalFrequency",
                   "LocalLoadBalancing")


MAX_PERIODS = 24  # SmartChargingCtrlr.PeriodsPerSchedule
MAX_STACK_LEVEL = 8  # SmartChargingCtrlr.ProfileStackLevel


class ProfileError(ValueError):
    """Why a profile is rejected (sent to the CSMS as the statusInfo's additionalInfo)."""


@dataclass(frozen=True, slots=True)
class Period:
    """One schedule period; every power in W (+ charge, - discharge), None: not stated."""

    start_s: float
    limit_w: float | None = None
    discharge_limit_w: float | None = None  # <= 0 (2.1)
    setpoint_w: float | None = None  # 2.1 CentralSetpoint
    operation_mode: str = CHARGING_ONLY


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    stack_level: int
    purpose: str
    kind: str
    evse_id: int
    periods: tuple[Period, ...]
    start_schedule: float | None = None  # epoch s (Absolute, Recurring)
    duration_s: float | None = None
    recurrency_s: float | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    transaction_id: str | None = None


def parse_time(text: object, what: str) -> float:
    """An OCPP dateTime (RFC 3339 with an offset or Z) as epoch seconds."""
    if not isinstance(text, str):
        raise ProfileError(f"{what}: {text!r} is not a date-time string")
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ProfileError(f"{what}: {text!r} is not an RFC 3339 date-time") from None
    if stamp.tzinfo is None:
        raise ProfileError(f"{what}: {text!r} has no time zone (add Z or an offset)")
    return stamp.timestamp()


def _number(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{what} = {value!r}: not a number")
    if not math.isfinite(value):
        raise ProfileError(f"{what} = {value}: must be a finite number")
    return float(value)


def _watts(value: object, what: str, per_unit_w: float) -> float | None:
    number = _number(value, what)
    return None if number is None else number * per_unit_w


def _period(raw: Mapping[str, Any], index: int, per_unit_w: float) -> Period:
    where = f"chargingSchedulePeriod[{index}]"
    start = _number(raw.get("start_period"), f"{where}.startPeriod")
    if start is None or start < 0:
        raise ProfileError(f"{where}.startPeriod = {start}: must be >= 0")
    mode = raw.get("operation_mode", CHARGING_ONLY)
    if mode in NOT_BUILT_MODES:
        raise ProfileError(f"{where}.operationMode {mode} is not supported by this station "
                           f"(supported: {', '.join(OPERATION_MODES)})")
    if mode not in OPERATION_MODES:
        raise ProfileError(f"{where}.operationMode {mode!r} is unknown")
    for key in ("limit_l2", "limit_l3", "setpoint_l2", "setpoint_l3", "discharge_limit_l2",
                "discharge_limit_l3", "setpoint_reactive"):
        if raw.get(key) is not None:
            raise ProfileError(f"{where}: per-phase and reactive values are not supported "
                               "(this is a DC charger with one AC setpoint)")
    period = Period(
        start_s=start,
        limit_w=_watts(raw.get("limit"), f"{where}.limit", per_unit_w),
        discharge_limit_w=_watts(raw.get("discharge_limit"), f"{where}.dischargeLimit",
                                 per_unit_w),
        setpoint_w=_watts(raw.get("setpoint"), f"{where}.setpoint", per_unit_w),
        operation_mode=str(mode),
    )
    if period.discharge_limit_w is not None and period.discharge_limit_w > 0:
        raise ProfileError(f"{where}.dischargeLimit = {raw.get('discharge_limit')}: must be "
                           "<= 0 (a discharge limit is negative)")
    if mode == CENTRAL_SETPOINT and period.setpoint_w is None:
        raise ProfileError(f"{where}: operationMode CentralSetpoint needs a setpoint")
    if mode in (CHARGING_ONLY,) and period.limit_w is None:
        raise ProfileError(f"{where}: operationMode ChargingOnly needs a limit")
    return period


def parse_profile(evse_id: int, raw: Mapping[str, Any], *, volts_per_amp_w: float,
                  now: float) -> Profile:
    """A :class:`Profile` from SetChargingProfile's snake_case ``charging_profile``."""
    purpose = raw.get("charging_profile_purpose")
    if purpose not in PURPOSES:
        raise ProfileError(f"chargingProfilePurpose {purpose} is not supported "
                           f"(supported: {', '.join(PURPOSES)})")
    kind = raw.get("charging_profile_kind")
    if kind not in KINDS:
        raise ProfileError(f"chargingProfileKind {kind} is not supported "
                           f"(supported: {', '.join(KINDS)})")
    schedules = raw.get("charging_schedule") or []
    if len(schedules) != 1:
        raise ProfileError(f"{len(schedules)} chargingSchedules: this station takes exactly 1")
    schedule = schedules[0]
    unit = schedule.get("charging_rate_unit")
    per_unit_w = 1.0 if unit == "W" else volts_per_amp_w
    raw_periods = schedule.get("charging_schedule_period") or []
    if len(raw_periods) > MAX_PERIODS:
        raise ProfileError(f"{len(raw_periods)} periods: this station takes at most "
                           f"{MAX_PERIODS} (SmartChargingCtrlr.PeriodsPerSchedule)")
    if int(raw.get("stack_level", 0)) > MAX_STACK_LEVEL:
        raise ProfileError(f"stackLevel {raw.get('stack_level')}: at most {MAX_STACK_LEVEL} "
                           "(SmartChargingCtrlr.ProfileStackLevel)")
    periods = tuple(_period(p, i, per_unit_w) for i, p in enumerate(raw_periods))
    if not periods or periods[0].start_s != 0:
        raise ProfileError("the first chargingSchedulePeriod must start at 0")
    if any(b.start_s <= a.start_s for a, b in itertools.pairwise(periods)):
        raise ProfileError("chargingSchedulePeriod startPeriods must increase")
    start = schedule.get("start_schedule")
    start_s = None if start is None else parse_time(start, "startSchedule")
    if kind == "Absolute" and start_s is None:
        start_s = now  # OCPP: an absolute schedule without a start begins when received
    recurrency = None
    if kind == "Recurring":
        name = raw.get("recurrency_kind")
        if name not in RECURRENCY_S or start_s is None:
            raise ProfileError("a Recurring profile needs recurrencyKind Daily or Weekly and "
                               "a startSchedule")
        recurrency = RECURRENCY_S[str(name)]
    if purpose == TX and not raw.get("transaction_id"):
        raise ProfileError("a TxProfile needs the transactionId it is for")
    if purpose in (MAX_PURPOSE, EXTERNAL) and any(
            p.operation_mode == CENTRAL_SETPOINT for p in periods):
        raise ProfileError(f"a {purpose} is a ceiling: CentralSetpoint belongs in a TxProfile "
                           "or TxDefaultProfile")
    if purpose == MAX_PURPOSE and evse_id != 0:
        raise ProfileError("a ChargingStationMaxProfile must be set on evseId 0")
    duration = _number(schedule.get("duration"), "duration")
    if duration is not None and duration <= 0:
        raise ProfileError(f"duration = {duration}: must be > 0")
    valid_from = raw.get("valid_from")
    valid_to = raw.get("valid_to")
    return Profile(
        id=int(raw["id"]), stack_level=int(raw["stack_level"]), purpose=str(purpose),
        kind=str(kind), evse_id=evse_id, periods=periods, start_schedule=start_s,
        duration_s=duration, recurrency_s=recurrency,
        valid_from=None if valid_from is None else parse_time(valid_from, "validFrom"),
        valid_to=None if valid_to is None else parse_time(valid_to, "validTo"),
        transaction_id=raw.get("transaction_id"),
    )
