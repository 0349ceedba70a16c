"""The installed charging profiles (persisted), and the composite schedule the CSMS can ask for.

Install, clear and report; the resolution itself is ``gateway/ocpp/composite.py``. A profile
with the id of an installed one replaces it, and so does one with the same purpose, stack level
and EVSE (OCPP's rule). TxProfiles end with their transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.ocpp.clock import stamp
from gateway.ocpp.composite import (
    StationLimits,
    Target,
    TxContext,
    change_points,
    resolve,
)
from gateway.ocpp.outbox import StationStore
from gateway.ocpp.profiles import TX, Profile, ProfileError, parse_profile

STORE_KEY = "charging_profiles"
MAX_PROFILES = 16


class ProfileStack:
    def __init__(self, store: StationStore, volts_per_amp_w: float) -> None:
        self._store = store
        self._volts_per_amp_w = volts_per_amp_w
        self._raw: list[tuple[int, dict[str, Any]]] = []
        self.profiles: list[Profile] = []
        saved = store.get_json(STORE_KEY) or []
        for evse_id, raw in saved:
            try:
                self._add(evse_id, raw, now=0.0)
            except ProfileError:
                continue  # a profile this version cannot read any more is not applied

    def install(self, evse_id: int, raw: Mapping[str, Any], now: float,
                tx: TxContext | None) -> Profile:
        """Check and install ``raw`` (SetChargingProfile's snake_case chargingProfile);
        ProfileError says why not, and then nothing changed."""
        if evse_id not in (0, 1):
            raise ProfileError(f"evseId {evse_id}: this station has EVSE 1 only (0: all)")
        profile = parse_profile(evse_id, raw, volts_per_amp_w=self._volts_per_amp_w, now=now)
        if profile.purpose == TX and (tx is None or tx.transaction_id != profile.transaction_id):
            raise ProfileError(f"no running transaction {profile.transaction_id}")
        if len(self.profiles) >= MAX_PROFILES and all(p.id != profile.id for p in self.profiles):
            raise ProfileError(f"{MAX_PROFILES} profiles installed: clear one first")
        self._add(evse_id, dict(raw), now=now, parsed=profile)
        self._save()
        return profile

    def _add(self, evse_id: int, raw: dict[str, Any], now: float,
             parsed: Profile | None = None) -> None:
        profile = parsed or parse_profile(evse_id, raw, volts_per_amp_w=self._volts_per_amp_w,
                                          now=now)
        if profile.kind == "Absolute" and raw.get("charging_schedule", [{}])[0].get(
                "start_schedule") is None:
            # Keep the start it was given when received, so a restart does not move it.
            raw = {**raw, "charging_schedule": [{**raw["charging_schedule"][0],
                                                 "start_schedule": stamp(now)}]}
        keep = [(e, r, p) for (e, r), p in zip(self._raw, self.profiles, strict=True)
                if p.id != profile.id and (p.purpose, p.stack_level, p.evse_id)
                != (profile.purpose, profile.stack_level, profile.evse_id)]
        self._raw = [(e, r) for e, r, _ in keep] + [(evse_id, raw)]
        self.profiles = [p for _, _, p in keep] + [profile]

    def clear(self, profile_id: int | None, evse_id: int | None, purpose: str | None,
              stack_level: int | None) -> int:
        """Remove every profile matching all given criteria; returns how many."""
        keep_raw, keep = [], []
        for entry, profile in zip(self._raw, self.profiles, strict=True):
            matches = ((profile_id is None or profile.id == profile_id)
                       and (evse_id is None or profile.evse_id == evse_id)
                       and (purpose is None or profile.purpose == purpose)
                       and (stack_level is None or profile.stack_level == stack_level))
            if not matches:
                keep_raw.append(entry)
                keep.append(profile)
        removed = len(self.profiles) - len(keep)
        self._raw, self.profiles = keep_raw, keep
        self._save()
        return removed

    def end_transaction(self) -> None:
        """TxProfiles live only as long as their transaction."""
        self.clear(None, None, TX, None)

    def _save(self) -> None:
        self._store.set_json(STORE_KEY, [[e, r] for e, r in self._raw])

    def resolve(self, t: float, tx: TxContext | None, limits: StationLimits) -> Target:
        return resolve(self.profiles, t, tx, limits)

    def composite(self, start: float, duration_s: float, tx: TxContext | None,
                  limits: StationLimits, version_21: bool,
                  per_unit_w: float) -> list[dict[str, Any]]:
        """The applied schedule from ``start`` for ``duration_s`` as OCPP periods (snake_case),
        limits in the requested unit (``per_unit_w`` W each)."""
        periods: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for point in change_points(self.profiles, start, start + duration_s, tx):
            target = resolve(self.profiles, point, tx, limits)
            period = _period(target, version_21, per_unit_w)
            if last is None or {k: v for k, v in period.items() if k != "start_period"} != {
                    k: v for k, v in last.items() if k != "start_period"}:
                period["start_period"] = int(point - start)
                periods.append(period)
                last = period
        return periods


def _period(target: Target, version_21: bool, per_unit_w: float) -> dict[str, Any]:
    if target.mode == "v2g":
        limit = -(target.discharge_w or 0.0)
    elif target.mode == "idle":
        limit = 0.0
    else:
        limit = target.charge_w if target.charge_w is not None else 0.0
    period: dict[str, Any] = {"start_period": 0, "limit": round(limit / per_unit_w, 1)}
    if version_21:
        if target.discharge_w is not None:
            period["discharge_limit"] = round(-target.discharge_w / per_unit_w, 1)
        if target.applied_w is not None and target.operation_mode == "CentralSetpoint":
            period["setpoint"] = round(target.applied_w / per_unit_w, 1)
        period["operation_mode"] = target.operation_mode
    return period
