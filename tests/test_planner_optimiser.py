"""The optimiser on small fixed problems: targets, reserve, V2H without export, wear, notes."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from planner_problems import START, evening_problem

from gateway.planner.model import Battery, Limits, PlannerInputError, Problem, Trip
from gateway.planner.optimiser import solve
from gateway.planner.wear import WearModel


def test_meets_the_departure_target_and_shifts_charging_to_the_cheap_night() -> None:
    plan = solve(evening_problem())
    assert plan.steps[51].soc_pct >= 80.0 - 1e-6  # the step before the 07:00 departure
    bought = [s for s in plan.steps if s.mode == "charge" and s.grid_kw > 1e-6]
    assert bought and all(s.import_price == pytest.approx(0.12) for s in bought)
    assert plan.notes == ()


def test_v2h_covers_the_peak_without_export() -> None:
    plan = solve(evening_problem(soc=70.0))
    peak = [s for s in plan.steps[:12]]  # 18:00-21:00 at 0.45
    assert any(s.mode == "v2h" for s in peak)
    for s in plan.steps:
        surplus = max(0.0, -(s.grid_kw - s.ev_kw))  # what the home alone would export
        assert s.grid_kw >= -surplus - 1e-6, f"{s.t}: the EV exports in V2H"


def test_v2g_exports_at_the_peak_when_allowed_and_worth_it() -> None:
    prices = evening_problem().import_price
    plan = solve(evening_problem(soc=90.0, v2g=True, export=prices * 0.9))
    assert any(s.mode == "v2g" for s in plan.steps[:12])
    for s in plan.steps:  # the EV's own export stays within the 5 kW cap
        surplus = max(0.0, -(s.grid_kw - s.ev_kw))
        assert s.grid_kw >= -surplus - 5.0 - 1e-6


def test_a_discharge_that_earns_less_than_its_wear_is_not_made() -> None:
    flat = np.full(96, 0.25)
    flat[16:52] = 0.20  # the night
    flat[:12] = 0.26  # earns 0.26 - 0.20 / 0.93^2 = 0.029 per kWh: less than a cycle's wear
    plan = solve(evening_problem(soc=70.0, prices=flat))
    assert all(s.mode != "v2h" for s in plan.steps)
    cheap_wear = dataclasses.replace(evening_problem(soc=70.0, prices=flat),
                                     wear=WearModel(pack_price_per_kwh=0.0))
    assert any(s.mode == "v2h" for s in solve(cheap_wear).steps), "the test must be able to fail"


def test_infeasible_departure_says_why_and_charges_as_fast_as_allowed() -> None:
    problem = evening_problem(soc=10.0, trips=(Trip(8, 40, 90.0, 10.0),))  # 2 h to add 80 %
    plan = solve(problem)
    assert any("cannot be reached" in note for note in plan.notes)
    assert all(s.ev_kw == pytest.approx(7.4) for s in plan.steps[:8])


def test_below_the_reserve_it_charges_at_full_power_until_the_reserve_is_reached() -> None:
    plan = solve(evening_problem(soc=5.0))
    assert any("below the 30 % backup reserve" in note for note in plan.notes)
    first = next(i for i, s in enumerate(plan.steps) if s.soc_pct >= 30.0 - 1e-6)
    assert all(s.ev_kw == pytest.approx(7.4) for s in plan.steps[:first])
    assert all(s.soc_pct >= 30.0 - 1e-6 for s in plan.steps[first:] if s.plugged)


def test_negative_prices_are_planned_and_the_plan_never_does_two_things_at_once() -> None:
    prices = np.full(96, -0.05)
    plan = solve(evening_problem(soc=50.0, prices=prices, trips=()))
    assert plan.steps[-1].soc_pct == pytest.approx(100.0, abs=1e-6)  # paid to charge: full
    assert all(s.soc_pct <= 100.0 + 1e-6 for s in plan.steps)
    assert plan.energy_cost < 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_price_is_refused_with_its_index(bad: float) -> None:
    prices = np.full(96, 0.2)
    prices[7] = bad
    with pytest.raises(PlannerInputError, match=r"import_price\[7\] = .*finite"):
        evening_problem(prices=prices)


def test_negative_load_and_naive_start_are_refused() -> None:
    base = evening_problem()
    load = base.load_kw.copy()
    load[3] = -1.0
    with pytest.raises(PlannerInputError, match=r"load_kw\[3\] = -1: must be >= 0"):
        dataclasses.replace(base, load_kw=load)
    with pytest.raises(PlannerInputError, match="needs a UTC offset"):
        dataclasses.replace(base, start=START.replace(tzinfo=None))
    with pytest.raises(PlannerInputError, match="reserve_pct"):
        Battery(reserve_pct=90.0, max_soc_pct=80.0)


def test_same_inputs_same_plan() -> None:
    a, b = solve(evening_problem()), solve(evening_problem())
    assert [s.ev_kw for s in a.steps] == [s.ev_kw for s in b.steps]


def test_not_plugged_means_idle() -> None:
    problem: Problem = dataclasses.replace(evening_problem(), plugged_now=False, trips=())
    assert all(s.mode == "idle" and s.ev_kw == 0.0 for s in solve(problem).steps)


def _tiny(n: int, **kw: object) -> Problem:
    z = np.zeros(n)
    return Problem(START, z, z, z, z, soc_pct=0.0, plugged_now=True,
                   battery=Battery(capacity_kwh=20.0, reserve_pct=float(kw.pop("reserve", 1.0)),
                                   max_soc_pct=10.0),
                   limits=Limits(max_charge_kw=float(kw.pop("charge", 1.0)), max_import_kw=3.0),
                   trips=kw.pop("trips", ()))  # type: ignore[arg-type]


def test_a_charge_limit_below_the_solver_tolerance_is_zero_for_the_floors_too() -> None:
    """Found by the property tests: 6e-8 kW raised the reserve floor a little while HiGHS
    treated the charge bound as zero: "Infeasible"."""
    plan = solve(_tiny(48, charge=5.960464477539063e-08))
    assert all(s.ev_kw == 0.0 for s in plan.steps)


def test_a_target_above_the_soc_ceiling_charges_to_the_ceiling_and_says_so() -> None:
    plan = solve(_tiny(12, reserve=0.0, trips=(Trip(9, 10, 11.0, 0.0),)))
    assert plan.steps[8].soc_pct >= 10.0 - 1e-6
    assert any("above the SoC ceiling 10 %" in note for note in plan.notes)


def test_a_limit_below_a_watt_is_no_power_in_the_bounds_and_in_the_plan() -> None:
    """The reserve property (a full-suite seed) found a 0.2 W charge limit: the program charged
    at 0.2 W, pricing the plan treated anything below 1 W as zero, so the plan said idle below
    the reserve. A limit below a watt is now no power everywhere."""
    from gateway.planner.evaluate import EPS_KW
    from gateway.planner.floors import power_bounds

    problem = dataclasses.replace(evening_problem(n=8, soc=0.0, trips=()),
                                  limits=Limits(max_charge_kw=0.0001953125))
    assert not power_bounds(problem).c_max.any()
    plan = solve(problem)
    assert all(s.ev_kw == 0.0 for s in plan.steps)
    assert any("reserve" in n for n in plan.notes), plan.notes
    assert EPS_KW >= 1e-3  # the same watt


def test_a_trip_that_needs_more_than_the_departure_floor_never_leaves_a_phantom_reserve() -> None:
    """Found by the risk-aware plan's reserve property (tests/test_planner_scenarios.py): a trip
    of 1 kWh with a 0 % departure target, the car away now with 0.2 kWh. The program took only
    the departure floor (0 kWh) off at the return, so it counted 0.2 kWh the trip had used
    and planned a V2H step on it: the priced plan discharged below the reserve, to empty. A trip
    that may need more than the floor brings the car back empty (as its note says)."""
    n = 28
    price, load = np.zeros(n), np.zeros(n)
    price[22], load[22] = 1.0, 1.0
    problem = Problem(START, price, np.zeros(n), np.zeros(n), load, soc_pct=1.0,
                      plugged_now=False, trips=(Trip(1, 2, 0.0, 1.0),),
                      battery=Battery(capacity_kwh=20.0, reserve_pct=1.0, max_soc_pct=10.0),
                      limits=Limits(max_charge_kw=1.0, max_discharge_kw=1.0, max_import_kw=3.0))
    plan = solve(problem)
    assert any("assuming it comes back empty" in note for note in plan.notes)
    for i, s in enumerate(plan.steps):
        if s.ev_kw < 0:
            assert s.soc_pct >= 1.0 - 1e-6, f"step {i} discharges below the reserve: {s}"
