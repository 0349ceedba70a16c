"""How a plan becomes claims: by value, robust to forecasts that are wrong."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from planner_problems import evening_problem

from gateway.planner.evaluate import claim_for
from gateway.planner.model import Plan, Step
from gateway.planner.optimiser import solve


def _with(plan: Plan, i: int, **changes: object) -> Plan:
    steps = list(plan.steps)
    steps[i] = dataclasses.replace(steps[i], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(plan, steps=tuple(steps))


def test_v2h_that_carries_the_home_claims_the_full_discharge_limit() -> None:
    plan = solve(evening_problem(soc=70.0))
    i = next(i for i, s in enumerate(plan.steps) if s.mode == "v2h" and s.grid_kw < 0.01)
    assert claim_for(plan, i, 7.4) == ("v2h", 7.4)  # a load above its forecast is carried too


def test_charging_from_forecast_surplus_never_imports_more_than_the_measured_surplus() -> None:
    step = Step(t=evening_problem().start, mode="charge", ev_kw=3.0, soc_pct=50.0, grid_kw=0.0,
                import_price=0.62, export_price=0.05, cost=0.0, wear_cost=0.0, plugged=True)
    plan = Plan((step,), 0.0, 0.0, 0.0)
    assert claim_for(plan, 0, 7.4, surplus_kw=1.2) == ("charge", 1.2)  # a cloud
    assert claim_for(plan, 0, 7.4, surplus_kw=-0.5) == ("idle", 0.0)
    assert claim_for(plan, 0, 7.4) == ("charge", 3.0)  # no measurement: the plan's power
    bought = dataclasses.replace(step, grid_kw=3.0)  # a planned import stays as planned
    assert claim_for(Plan((bought,), 0.0, 0.0, 0.0), 0, 7.4, surplus_kw=0.0) == ("charge", 3.0)


def test_an_idle_step_dearer_than_a_later_discharge_carries_the_home() -> None:
    plan = solve(evening_problem(n=192, soc=70.0, trips=()))
    last_v2h = max(i for i, s in enumerate(plan.steps) if s.mode == "v2h")
    j = next(i for i, s in enumerate(plan.steps) if s.mode == "idle" and i < last_v2h)
    assert claim_for(_with(plan, j, import_price=1.0), j, 7.4) == ("v2h", 7.4)
    assert claim_for(_with(plan, j, import_price=0.0), j, 7.4) == ("idle", 0.0)


def test_energy_kept_for_a_departure_is_not_spent_by_that_rule() -> None:
    plan = solve(evening_problem(soc=70.0))
    depart = next(i for i, s in enumerate(plan.steps) if not s.plugged)
    i = depart - 1
    dear = _with(plan, i, mode="idle", ev_kw=0.0, import_price=9.0)
    later_v2h = [s for s in dear.steps[depart:] if s.mode == "v2h"]
    assert later_v2h, "the test needs a discharge after the trip"
    assert claim_for(dear, i, 7.4) == ("idle", 0.0)
    assert np.isfinite([s.soc_pct for s in dear.steps]).all()


_QUARTER = dt.timedelta(minutes=15)


def _steps(*rows: tuple[str, float, float, float, bool]) -> Plan:
    """Steps (mode, ev_kw, grid_kw, import_price, plugged), 15 minutes apart."""
    t0 = evening_problem().start
    return Plan(tuple(Step(t=t0 + _QUARTER * k, mode=m, ev_kw=ev,
                           soc_pct=50.0, grid_kw=g, import_price=p, export_price=0.05, cost=0.0,
                           wear_cost=0.0, plugged=on)
                      for k, (m, ev, g, p, on) in enumerate(rows)), 0.0, 0.0, 0.0)


def test_an_unforecast_surplus_replaces_a_later_grid_charge_only_with_absorb() -> None:
    plan = _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True),
                  ("charge", 4.0, 4.0, 0.30, True))
    assert claim_for(plan, 0, 7.4, surplus_kw=2.0) == ("idle", 0.0)  # without absorb: export
    assert claim_for(plan, 0, 7.4, surplus_kw=2.0, absorb=True) == ("charge", 2.0)
    # at most what the plan buys later (2 x 4 kW x 0.25 h = 2 kWh: 8 kW for a quarter hour)
    assert claim_for(plan, 0, 7.4, surplus_kw=11.0, absorb=True) == ("charge", 8.0)
    # a planned PV charge takes the surplus it planned plus the extra
    pv_charge = _steps(("charge", 1.0, 0.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True))
    assert claim_for(pv_charge, 0, 7.4, surplus_kw=3.0, absorb=True) == ("charge", 3.0)


def test_absorb_never_stores_energy_the_plan_does_not_buy_dearer_later() -> None:
    cheap_later = _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 4.0, 4.0, 0.01, True))
    assert claim_for(cheap_later, 0, 7.4, surplus_kw=2.0, absorb=True) == ("idle", 0.0)
    after_leaving = _steps(("idle", 0.0, -2.0, 0.30, True), ("idle", 0.0, 0.0, 0.30, False),
                           ("charge", 4.0, 4.0, 0.30, True))
    assert claim_for(after_leaving, 0, 7.4, surplus_kw=2.0, absorb=True) == ("idle", 0.0)
    from_pv_later = _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 2.0, 0.0, 0.30, True))
    assert claim_for(from_pv_later, 0, 7.4, surplus_kw=2.0, absorb=True) == ("idle", 0.0)
    v2h_now = _steps(("v2h", -1.0, 0.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True))
    assert claim_for(v2h_now, 0, 7.4, surplus_kw=float("nan"), absorb=True)[0] == "v2h"
