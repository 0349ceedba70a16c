"""The profile stack resolved at one instant, and the station's own clamps: pure functions.

OCPP smart charging, as this station applies it (docs/ocpp.md, "How a profile becomes a claim"):

1. Within each purpose the profile with the highest ``stackLevel`` that has a period at ``t``
   wins (at equal levels, one for EVSE 1 beats one for the whole station, EVSE 0).
2. The transaction's own TxProfile (matching ``transactionId``) beats a TxDefaultProfile; both
   apply only while a transaction runs.
3. ChargingStationMaxProfile and ChargingStationExternalConstraints are ceilings on whatever
   the transaction's profile asks, in both directions.
4. The station's ratings and the EV's reserve state of charge clamp the result; what is left
   is *applied*, and the CSMS is told when it differs from what the profile asked.

A limit's sign gives the direction (+ charge, - discharge, as OCPP's); ``Target`` keeps
magnitudes and a mode, the shape of a controller claim. Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.ocpp.profiles import (
    CENTRAL_SETPOINT,
    CHARGING_ONLY,
    EXTERNAL,
    EXTERNAL_LIMITS,
    IDLE,
    MAX_PURPOSE,
    TX,
    TX_DEFAULT,
    Period,
    Profile,
)

STATION_EVSE = 1  # this station has one EVSE with one connector


@dataclass(frozen=True, slots=True)
class TxContext:
    """The running transaction: Relative schedules start at ``start`` (epoch s)."""

    transaction_id: str
    start: float


@dataclass(frozen=True, slots=True)
class StationLimits:
    max_charge_w: float
    max_discharge_w: float
    reserve_soc_pct: float
    soc_pct: float | None  # None: not known (no EV reporting)


@dataclass(frozen=True, slots=True)
class Target:
    """What the stack asks at one instant, clamped: a mode (None: no opinion) and ceilings."""

    mode: str | None  # "charge", "v2g", "idle" or None
    charge_w: float | None  # charging ceiling (None: as the controller's limits allow)
    discharge_w: float | None  # discharging ceiling, a magnitude
    operation_mode: str = CHARGING_ONLY
    requested_w: float | None = None  # what the transaction's profile asked, signed
    applied_w: float | None = None  # what will be asked of the controller, signed
    clamp: str = ""  # why applied differs from requested ("" when it does not)
    profile_ids: tuple[int, ...] = ()


def period_at(profile: Profile, t: float, tx: TxContext | None) -> Period | None:
    """The period of ``profile`` in force at ``t``, None when none is (or it does not apply)."""
    if profile.valid_from is not None and t < profile.valid_from:
        return None
    if profile.valid_to is not None and t >= profile.valid_to:
        return None
    if profile.purpose == TX and (tx is None or tx.transaction_id != profile.transaction_id):
        return None
    if profile.purpose == TX_DEFAULT and tx is None:
        return None
    if profile.kind == "Relative":
        if tx is None:
            return None
        base = tx.start
    else:
        base = profile.start_schedule if profile.start_schedule is not None else t
    elapsed = t - base
    if profile.recurrency_s is not None and elapsed >= 0:
        elapsed = math.fmod(elapsed, profile.recurrency_s)
    if elapsed < 0 or (profile.duration_s is not None and elapsed >= profile.duration_s):
        return None
    found = None
    for period in profile.periods:
        if period.start_s <= elapsed:
            found = period
    return found


def winner(profiles: Iterable[Profile], purpose: str, t: float,
           tx: TxContext | None) -> tuple[Profile, Period] | None:
    """The highest-stack profile of ``purpose`` with a period at ``t``, and that period."""
    best: tuple[Profile, Period] | None = None
    for profile in profiles:
        if profile.purpose != purpose or profile.evse_id not in (0, STATION_EVSE):
            continue
        period = period_at(profile, t, tx)
        if period is None:
            continue
        if best is None or (profile.stack_level, profile.evse_id) > (best[0].stack_level,
                                                                     best[0].evse_id):
            best = (profile, period)
    return best


def _cap(period: Period) -> tuple[float | None, float | None]:
    """A ceiling profile's (charge, discharge) ceilings; a limit bounds both directions."""
    if period.operation_mode == IDLE:
        return 0.0, 0.0
    limit = period.limit_w
    charge = None if limit is None else max(limit, 0.0)
    discharge = None if limit is None else abs(limit)
    if period.discharge_limit_w is not None:
        discharge = abs(period.discharge_limit_w)
    return charge, discharge


def _lowest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _asked(period: Period) -> tuple[str | None, float | None, float | None, float | None]:
    """(mode, charge ceiling, discharge ceiling, signed request) from a transaction period."""
    mode = period.operation_mode
    if mode == IDLE:
        return "idle", 0.0, 0.0, 0.0
    if mode == EXTERNAL_LIMITS:
        discharge = None if period.discharge_limit_w is None else abs(period.discharge_limit_w)
        return None, period.limit_w, discharge, None
    if mode == CENTRAL_SETPOINT and period.setpoint_w is not None:
        setpoint = period.setpoint_w
        if setpoint < 0:
            bound = None if period.discharge_limit_w is None else abs(period.discharge_limit_w)
            return "v2g", 0.0, _lowest(abs(setpoint), bound), setpoint
        return "charge", _lowest(setpoint, period.limit_w), 0.0, setpoint
    limit = period.limit_w if period.limit_w is not None else 0.0
    if limit < 0:  # a negative limit asks for discharge (OCPP 2.0.1 V2G practice)
        return "v2g", 0.0, -limit, limit
    return "charge", limit, 0.0, limit


def resolve(profiles: Sequence[Profile], t: float, tx: TxContext | None,
            limits: StationLimits) -> Target:
    """The stack at ``t`` with every ceiling and clamp applied."""
    caps_c: list[float | None] = []
    caps_d: list[float | None] = []
    ids: list[int] = []
    for purpose in (MAX_PURPOSE, EXTERNAL):
        found = winner(profiles, purpose, t, tx)
        if found is not None:
            charge, discharge = _cap(found[1])
            caps_c.append(charge)
            caps_d.append(discharge)
            ids.append(found[0].id)
    tx_found = winner(profiles, TX, t, tx) or winner(profiles, TX_DEFAULT, t, tx)
    operation_mode = CHARGING_ONLY
    if tx_found is not None:
        ids.append(tx_found[0].id)
        operation_mode = tx_found[1].operation_mode
        mode, charge, discharge, requested = _asked(tx_found[1])
    elif tx is not None:
        mode, charge, discharge, requested = "charge", None, None, None
    else:
        mode, charge, discharge, requested = None, None, None, None
    charge = _lowest(charge, *caps_c)
    discharge = _lowest(discharge, *caps_d)
    # The station's ratings clamp what a profile asks; they are never a claim of their own
    # (nobody asked for them, and the controller applies its own ratings anyway).
    charge = None if charge is None else min(charge, limits.max_charge_w)
    discharge = None if discharge is None else min(discharge, limits.max_discharge_w)
    reasons = []
    if (limits.soc_pct is not None and limits.soc_pct <= limits.reserve_soc_pct
            and discharge is not None and discharge > 0):
        discharge = 0.0
        reasons.append(f"EV at {limits.soc_pct:.0f} % SoC, reserve {limits.reserve_soc_pct:.0f} %")
    applied = _applied(mode, charge, discharge)
    if requested is not None and applied is not None and abs(applied - requested) > 0.5:
        if not reasons:
            reasons.append(_ceiling_reason(requested, caps_c, caps_d, limits))
    else:
        reasons = []
    return Target(mode=mode, charge_w=charge, discharge_w=discharge,
                  operation_mode=operation_mode, requested_w=requested, applied_w=applied,
                  clamp="; ".join(reasons), profile_ids=tuple(ids))


def _applied(mode: str | None, charge: float | None, discharge: float | None) -> float | None:
    if mode == "charge":
        return charge
    if mode == "v2g":
        return None if discharge is None else 0.0 - discharge  # 0.0 - 0.0 is +0 ("0 W")
    if mode == "idle":
        return 0.0
    return None


def _ceiling_reason(requested: float, caps_c: Sequence[float | None],
                    caps_d: Sequence[float | None], limits: StationLimits) -> str:
    if requested < 0:
        if -requested > limits.max_discharge_w and all(
                c is None or c >= limits.max_discharge_w for c in caps_d):
            return f"the station discharges at most {limits.max_discharge_w:.0f} W"
        return "limited by ChargingStationMaxProfile or ExternalConstraints"
    if requested > limits.max_charge_w and all(
            c is None or c >= limits.max_charge_w for c in caps_c):
        return f"the station charges at most {limits.max_charge_w:.0f} W"
    return "limited by ChargingStationMaxProfile or ExternalConstraints"


def claim_of(target: Target, current_mode: str) -> tuple[str | None, float | None] | None:
    """The grid_operator claim (mode, power ceiling) for ``target``; None: nothing to claim.

    With no mode of its own (ExternalLimits, or only ceilings), the ceiling is the one for the
    direction of the mode the controller is in now (``current_mode``)."""
    if target.mode == "charge":
        return "charge", target.charge_w
    if target.mode == "v2g":
        return "v2g", target.discharge_w
    if target.mode == "idle":
        return "idle", None
    discharging = current_mode in ("v2g", "v2h", "v2l")
    power = target.discharge_w if discharging else target.charge_w
    return None if power is None else (None, power)


def change_points(profiles: Sequence[Profile], start: float, end: float,
                  tx: TxContext | None) -> list[float]:
    """Every instant in [start, end) at which some profile's period may change."""
    points = {start}
    for p in profiles:
        for edge in (p.valid_from, p.valid_to):
            if edge is not None and start < edge < end:
                points.add(edge)
        base = tx.start if p.kind == "Relative" and tx is not None else p.start_schedule
        if base is None:
            continue
        step = p.recurrency_s
        first = base if step is None else base + math.floor((start - base) / step) * step
        origin = first
        while origin < end:
            edges = [origin + q.start_s for q in p.periods]
            if p.duration_s is not None:
                edges.append(origin + p.duration_s)
            points.update(e for e in edges if start < e < end)
            if step is None:
                break
            origin += step
    return sorted(points)
