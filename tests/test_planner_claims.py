"""How a plan becomes claims: by value, robust to forecasts that are wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import numpy as np
from planner_problems import evening_problem
from test_planner_day import planner_config

from gateway.api import ClaimReply, ControllerStatus
from gateway.planner.config import PlannerSettings
from gateway.planner.evaluate import claim_for
from gateway.planner.model import Plan, Step
from gateway.planner.optimiser import solve
from gateway.planner.service import PlannerService, PlanRecord


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


def test_absorb_never_claims_above_the_charge_limit() -> None:
    """The energy the plan buys later (here 8 kW worth in one quarter hour) may be more than
    the charger takes: the claim stops at its limit."""
    plan = _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True),
                  ("charge", 4.0, 4.0, 0.30, True))
    assert claim_for(plan, 0, 7.4, surplus_kw=11.0, absorb=True, max_charge_kw=7.4) == (
        "charge", 7.4)
    pv_charge = _steps(("charge", 1.0, 0.0, 0.30, True), ("charge", 8.0, 8.0, 0.30, True))
    assert claim_for(pv_charge, 0, 7.4, surplus_kw=9.0, absorb=True, max_charge_kw=3.0) == (
        "charge", 3.0)


def test_covering_the_home_is_a_v2g_claim_when_the_owner_allows_v2g_only() -> None:
    """Found by the claim property test: with V2H off and V2G on, a plan that discharged for
    the home's load claimed V2H, the mode the owner had not allowed."""
    problem = evening_problem(soc=70.0)
    only_v2g = dataclasses.replace(problem, limits=dataclasses.replace(
        problem.limits, v2h_allowed=False, v2g_allowed=True, export_cap_kw=0.0))
    plan = solve(only_v2g)
    discharging = [s for s in plan.steps if s.ev_kw < -0.01]
    assert discharging, "the evening peak is worth discharging for"
    assert {s.mode for s in discharging} == {"v2g"}
    assert all(claim_for(plan, i, 7.4)[0] != "v2h" for i in range(len(plan.steps)))


class _Api:
    """The controller as the service sees it: one status, the claims recorded."""

    def __init__(self, status: ControllerStatus) -> None:
        self.status = status
        self.made: list[tuple[str | None, float | None]] = []

    async def claim(self, requester: str, *, mode: str | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        self.made.append((mode, power_limit_w))
        return ClaimReply(True, "ok")


def _service_claim(absorb: bool, pv_w: float, home_w: float) -> list[tuple[str | None,
                                                                            float | None]]:
    """What the planner service claims now, for a plan that idles now and buys 2 kWh from
    the grid for the car in the next half hour, with ``pv_w`` and ``home_w`` measured."""
    cfg = planner_config()
    cfg = dataclasses.replace(cfg, planner=dataclasses.replace(cfg.planner,
                                                                absorb_surplus=absorb))
    service = PlannerService(cfg)
    plan = _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True),
                  ("charge", 4.0, 4.0, 0.30, True))
    service.latest = PlanRecord(plan.steps[0].t, "test", plan, 0.0)
    service._problem = evening_problem()
    service.soc.observe(True, 60.0, 0.0)
    status = ControllerStatus(
        t=0.0, state="idle", mode="idle", mode_winner="default", power_limit_w=None,
        power_winner="default", grid_voltage_v=230.0, grid_frequency_hz=50.0, grid_ok=True,
        grid_reason="", ev_soc_pct=60.0, grid_power_w=home_w - pv_w, home_power_w=home_w,
        ev_power_w=0.0, pv_power_w=pv_w, commanded_power_w=0.0, faults=())
    api = _Api(status)
    asyncio.run(service._carry_out(api, plan.steps[0].t))  # type: ignore[arg-type]
    return api.made


def test_the_service_puts_an_unforecast_surplus_into_the_car_unless_told_not_to() -> None:
    """``[planner] absorb_surplus`` (on by default): 2 kW of PV the plan did not expect goes
    into the car instead of being exported at 0.05 and bought back at 0.30; off, it is
    exported. A measured deficit absorbs nothing."""
    assert PlannerSettings().absorb_surplus
    assert _service_claim(True, pv_w=3000.0, home_w=1000.0) == [("charge", 2000.0)]
    assert _service_claim(False, pv_w=3000.0, home_w=1000.0) == [("idle", None)]
    assert _service_claim(True, pv_w=500.0, home_w=1000.0) == [("idle", None)]
