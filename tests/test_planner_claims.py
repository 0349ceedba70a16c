"""How a plan becomes claims: by value, robust to forecasts that are wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np
from planner_problems import evening_problem
from test_planner_day import planner_config

from gateway.api import ClaimReply, ControllerStatus
from gateway.planner.config import PlannerSettings
from gateway.planner.evaluate import claim_for
from gateway.planner.model import Plan, Step
from gateway.planner.optimiser import solve
from gateway.planner.service import PlannerService, PlanRecord
from gateway.planner.surplus_dwell import START_DELAY_S, STOP_DELAY_S, SurplusDwell


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
    """The controller as the service sees it: it takes every claim at once (its mode is the
    last claim's, won by the planner) and reports the PV and home power it is given."""

    def __init__(self) -> None:
        self.status: ControllerStatus | None = None
        self.made: list[tuple[float, str | None, float | None]] = []
        self.mode = "idle"
        self.t = 0.0

    def measure(self, t: float, pv_w: float, home_w: float) -> None:
        self.t = t
        self.status = ControllerStatus(
            t=t, state=self.mode, mode=self.mode, mode_winner="schedule", power_limit_w=None,
            power_winner="schedule", grid_voltage_v=230.0, grid_frequency_hz=50.0,
            grid_ok=True, grid_reason="", ev_soc_pct=60.0, grid_power_w=home_w - pv_w,
            home_power_w=home_w, ev_power_w=0.0, pv_power_w=pv_w, commanded_power_w=0.0,
            faults=())

    async def claim(self, requester: str, *, mode: str | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        self.made.append((self.t, mode, power_limit_w))
        self.mode = mode or "idle"
        return ClaimReply(True, "ok")


def _service_claims(samples: list[tuple[float, float, float]], absorb: bool = True,
                    plan: Plan | None = None) -> list[tuple[float, str | None, float | None]]:
    """The claims the planner service makes, waking at each ``(t_s, pv_w, home_w)``, for a
    plan (by default one that idles now and buys 2 kWh from the grid for the car in the next
    half hour)."""
    cfg = planner_config()
    cfg = dataclasses.replace(cfg, planner=dataclasses.replace(cfg.planner,
                                                                absorb_surplus=absorb))
    service = PlannerService(cfg)
    plan = plan or _steps(("idle", 0.0, -2.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True),
                          ("charge", 4.0, 4.0, 0.30, True))
    service.latest = PlanRecord(plan.steps[0].t, "test", plan, 0.0)
    service._problem = evening_problem()
    service.soc.observe(True, 60.0, 0.0)
    api = _Api()
    t0 = plan.steps[0].t
    for t, pv_w, home_w in samples:
        api.measure(t, pv_w, home_w)
        asyncio.run(service._carry_out(api, t0 + dt.timedelta(seconds=t)))  # type: ignore[arg-type]
    return api.made


def _every_5_s(until_s: float, pv_w: Callable[[float], float],
               home_w: float = 1000.0) -> list[tuple[float, float, float]]:
    return [(t, pv_w(t), home_w) for t in np.arange(0.0, until_s, 5.0)]


def test_the_service_puts_an_unforecast_surplus_into_the_car_unless_told_not_to() -> None:
    """``[planner] absorb_surplus`` (on by default): 2 kW of PV the plan did not expect goes
    into the car (once it has lasted a minute) instead of being exported at 0.05 and bought
    back at 0.30; off, it is exported. A measured deficit absorbs nothing."""
    assert PlannerSettings().absorb_surplus
    sunny = _every_5_s(120.0, lambda t: 3000.0)
    assert _service_claims(sunny) == [(0.0, "idle", None), (START_DELAY_S, "charge", 2000.0)]
    assert _service_claims(sunny, absorb=False) == [(0.0, "idle", None)]
    assert _service_claims(_every_5_s(120.0, lambda t: 500.0)) == [(0.0, "idle", None)]


def test_a_surplus_that_comes_and_goes_with_the_clouds_does_not_cycle_the_charger() -> None:
    """Sun and cloud every 10 s for an hour: without the dwell the service started and stopped
    the charger at every change (each a precharge and a contactor cycle). Now a surplus that
    does not last a minute starts nothing."""
    idle_hour = _steps(*[("idle", 0.0, -2.0, 0.30, True)] * 4,
                       ("charge", 4.0, 4.0, 0.30, True), ("charge", 4.0, 4.0, 0.30, True))
    flicker = _every_5_s(3600.0, lambda t: 3000.0 if int(t // 10) % 2 == 0 else 200.0)
    assert [mode for _, mode, _ in _service_claims(flicker, plan=idle_hour)] == ["idle"]


def test_a_charge_from_the_surplus_idles_at_zero_power_through_a_cloud() -> None:
    """Charging from the sun; a cloud of two minutes: the charge goes on at 0 W (nothing
    imported, the contactors stay closed) and takes the sun again after it. A cloud that
    lasts stops the charge after three minutes."""
    def sky(t: float) -> float:
        return 200.0 if 200.0 <= t < 320.0 or t >= 500.0 else 3000.0
    claims = _service_claims(_every_5_s(900.0, sky))
    assert claims == [(0.0, "idle", None), (START_DELAY_S, "charge", 2000.0),
                      (200.0, "charge", 0.0), (320.0, "charge", 2000.0),
                      (500.0, "charge", 0.0), (500.0 + STOP_DELAY_S, "idle", None)]


def test_a_charge_the_plan_buys_from_the_grid_starts_and_a_v2h_step_switches_at_once() -> None:
    """Only the surplus's coming and going waits: a planned grid charge starts at once (no
    surplus needed), and so does a V2H step after a surplus charge."""
    grid_charge = _steps(("charge", 4.0, 4.0, 0.10, True), ("charge", 4.0, 4.0, 0.10, True))
    assert _service_claims(_every_5_s(30.0, lambda t: 0.0), plan=grid_charge)[0] == (
        0.0, "charge", 4000.0)
    v2h = _steps(("v2h", -1.0, 0.0, 0.45, True), ("v2h", -1.0, 0.0, 0.45, True))
    assert _service_claims(_every_5_s(30.0, lambda t: 0.0), plan=v2h)[0][1] == "v2h"


def test_a_surplus_must_last_without_a_break_in_the_service_s_wake_ups() -> None:
    """A surplus seen at one wake-up and again after a gap (a reconnect, a dropped plan) has
    not been seen lasting: the minute starts again."""
    dwell = SurplusDwell()
    surplus_charge, idle = ("charge", 2.0), ("idle", 0.0)
    assert dwell.settle(0.0, False, surplus_charge, idle) == idle
    assert dwell.settle(1000.0, False, surplus_charge, idle) == idle  # after a gap: from now
    assert dwell.settle(1000.0 + START_DELAY_S, False, surplus_charge, idle) == idle  # > gap
    for t in np.arange(1000.0 + START_DELAY_S + 5.0, 1200.0, 5.0):
        last = dwell.settle(float(t), False, surplus_charge, idle)
    assert last == surplus_charge
    assert dwell.settle(500.0, False, surplus_charge, idle) == idle  # the clock went back
