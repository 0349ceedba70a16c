"""The profile stack resolved into a grid_operator claim: pure functions, property-tested."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ocpp.composite import StationLimits, TxContext, claim_of, resolve
from gateway.ocpp.profiles import ProfileError, parse_profile

T0 = 1_796_299_200.0
TX = TxContext("tx-1", T0)
ROOMY = StationLimits(max_charge_w=11_000.0, max_discharge_w=11_000.0, reserve_soc_pct=40.0,
                      soc_pct=80.0)


def raw(purpose: str, periods: list[dict[str, Any]], *, pid: int = 1, stack: int = 0,
        kind: str = "Absolute", unit: str = "W", **extra: Any) -> dict[str, Any]:
    schedule: dict[str, Any] = {"id": 1, "charging_rate_unit": unit,
                                "charging_schedule_period": periods}
    if kind == "Absolute":
        schedule["start_schedule"] = "2026-12-03T12:00:00Z"
    profile = {"id": pid, "stack_level": stack, "charging_profile_purpose": purpose,
               "charging_profile_kind": kind, "charging_schedule": [schedule], **extra}
    if purpose == "TxProfile":
        profile.setdefault("transaction_id", "tx-1")
    return profile


def parse(r: dict[str, Any], evse: int = 1) -> Any:
    return parse_profile(evse, r, volts_per_amp_w=230.0, now=T0)


def test_a_tx_profile_beats_tx_default_and_the_station_max_caps_both() -> None:
    default = parse(raw("TxDefaultProfile", [{"start_period": 0, "limit": 7000}], pid=1))
    tx = parse(raw("TxProfile", [{"start_period": 0, "limit": 9000}], pid=2))
    cap = parse(raw("ChargingStationMaxProfile", [{"start_period": 0, "limit": 8000}], pid=3),
                evse=0)
    target = resolve([default, tx, cap], T0 + 10, TX, ROOMY)
    assert (target.mode, target.charge_w) == ("charge", 8000.0)
    assert target.clamp and "MaxProfile" in target.clamp
    assert claim_of(target, "idle") == ("charge", 8000.0)
    assert resolve([default, cap], T0 + 10, TX, ROOMY).charge_w == 7000.0


def test_a_negative_limit_is_a_discharge_and_the_reserve_clamps_it_to_zero() -> None:
    v2g = parse(raw("TxProfile", [{"start_period": 0, "limit": -5000}]))
    target = resolve([v2g], T0, TX, ROOMY)
    assert claim_of(target, "charge") == ("v2g", 5000.0)
    low = StationLimits(11_000.0, 11_000.0, reserve_soc_pct=40.0, soc_pct=38.0)
    clamped = resolve([v2g], T0, TX, low)
    assert claim_of(clamped, "charge") == ("v2g", 0.0)
    assert clamped.requested_w == -5000.0 and clamped.applied_w == 0.0
    assert "reserve" in clamped.clamp


def test_central_setpoint_and_external_limits_of_ocpp_21() -> None:
    setpoint = parse(raw("TxProfile", [{"start_period": 0, "operation_mode": "CentralSetpoint",
                                        "setpoint": -6000, "discharge_limit": -4000}]))
    assert claim_of(resolve([setpoint], T0, TX, ROOMY), "idle") == ("v2g", 4000.0)
    limits = parse(raw("TxProfile", [{"start_period": 0, "operation_mode": "ExternalLimits",
                                      "limit": 3000, "discharge_limit": -2000}]))
    target = resolve([limits], T0, TX, ROOMY)
    assert claim_of(target, "charge") == (None, 3000.0)  # the mode stays the owner's
    assert claim_of(target, "v2h") == (None, 2000.0)


def test_periods_change_with_time_and_relative_profiles_follow_the_transaction() -> None:
    steps = parse(raw("TxProfile", [{"start_period": 0, "limit": 2000},
                                    {"start_period": 600, "limit": -3000}], kind="Relative"))
    tx = TxContext("tx-1", T0 + 100)
    assert resolve([steps], T0 + 650, tx, ROOMY).applied_w == 2000.0
    assert resolve([steps], T0 + 700, tx, ROOMY).applied_w == -3000.0


def test_without_a_transaction_only_ceilings_are_claimed() -> None:
    cap = parse(raw("ChargingStationMaxProfile", [{"start_period": 0, "limit": 4000}]), evse=0)
    assert claim_of(resolve([cap], T0, None, ROOMY), "idle") == (None, 4000.0)
    assert claim_of(resolve([], T0, None, ROOMY), "idle") is None  # nothing asked: no claim
    assert claim_of(resolve([], T0, TX, ROOMY), "idle") == ("charge", None)


@pytest.mark.parametrize(("change", "why"), [
    ({"limit": math.nan}, "finite"),
    ({"limit": math.inf}, "finite"),
    ({"operation_mode": "LocalFrequency"}, "not supported"),
    ({"start_period": 5}, "start at 0"),
    ({"discharge_limit": 100.0}, "<= 0"),
    ({"limit_l2": 10.0}, "per-phase"),
])
def test_a_profile_the_station_cannot_follow_is_rejected_with_the_reason(
        change: dict[str, Any], why: str) -> None:
    period = {"start_period": 0, "limit": 1000.0, **change}
    with pytest.raises(ProfileError, match=why):
        parse(raw("TxProfile", [period]))


def test_too_many_periods_or_too_high_a_stack_are_rejected() -> None:
    many = [{"start_period": i * 60, "limit": 1000.0} for i in range(25)]
    with pytest.raises(ProfileError, match="at most 24"):
        parse(raw("TxProfile", many))
    with pytest.raises(ProfileError, match="stackLevel 9"):
        parse(raw("TxProfile", [{"start_period": 0, "limit": 1.0}], stack=9))


def test_profile_in_amps_is_converted_at_the_nominal_voltage() -> None:
    amps = parse(raw("TxProfile", [{"start_period": 0, "limit": 16}], unit="A"))
    assert resolve([amps], T0, TX, ROOMY).charge_w == pytest.approx(16 * 230.0)


powers = st.floats(min_value=-50_000, max_value=50_000, allow_nan=False)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(tx_limit=powers, cap=st.one_of(st.none(), st.floats(0, 50_000)),
       soc=st.one_of(st.none(), st.floats(0, 100)), reserve=st.floats(0, 100),
       max_c=st.floats(0, 30_000), max_d=st.floats(0, 30_000),
       mode=st.sampled_from(["idle", "charge", "v2h", "v2g"]))
def test_the_claim_never_exceeds_a_ceiling_nor_discharges_at_reserve(
        tx_limit: float, cap: float | None, soc: float | None, reserve: float, max_c: float,
        max_d: float, mode: str) -> None:
    profiles = [parse(raw("TxProfile", [{"start_period": 0, "limit": tx_limit}], pid=1))]
    if cap is not None:
        profiles.append(parse(raw("ChargingStationMaxProfile",
                                  [{"start_period": 0, "limit": cap}], pid=2), evse=0))
    limits = StationLimits(max_c, max_d, reserve, soc)
    target = resolve(profiles, T0, TX, limits)
    claim = claim_of(target, mode)
    assert claim is not None
    claimed_mode, power = claim
    assert power is not None and power >= 0 and math.isfinite(power)
    ceiling = max_d if claimed_mode == "v2g" else max_c
    if cap is not None:
        ceiling = min(ceiling, cap)
    assert power <= ceiling + 1e-6
    assert claimed_mode == ("v2g" if tx_limit < 0 else "charge")
    if claimed_mode == "v2g":
        assert power <= abs(tx_limit) + 1e-6
        if soc is not None and soc <= reserve:
            assert power == 0.0
    if target.applied_w is not None and abs(target.applied_w - tx_limit) > 0.5:
        assert target.clamp, "a clamped result says why"
