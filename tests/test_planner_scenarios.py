"""The risk-aware plan (``optimiser.solve_scenarios``): the least expected cost over PV
scenarios, one decision for the steps carried out now. It hedges an uncertain tomorrow, and it
keeps every hard constraint of the plain plan (the same properties, on random problems)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.planner.model import Battery, Limits, PlannerInputError, Problem, Trip
from gateway.planner.optimiser import solve, solve_scenarios
from tests.test_planner_properties import (
    charge_max,
    check_limits,
    check_reserve,
    check_targets,
    problems,
)

EXAMPLES = 40  # each example solves 2-4 scenarios: these three keep the file near 15 s


@st.composite
def with_scenarios(draw: st.DrawFn) -> tuple[Problem, list[np.ndarray]]:
    problem = draw(problems())
    k = draw(st.integers(1, 3))
    power = st.floats(0.0, 9.0, allow_nan=False)
    pvs = [np.array(draw(st.lists(power, min_size=problem.n, max_size=problem.n)))
           for _ in range(k)]
    return problem, pvs


def shared_charge_max(problem: Problem, pvs: list[np.ndarray],
                      shared: int | None) -> np.ndarray:
    """The most the EV may charge each step: in the shared first steps (None: all), the least
    any scenario allows (the charge is one decision for all of them; the import cap holds in
    each)."""
    shared = problem.n if shared is None else shared
    c_max = charge_max(problem)
    for pv in pvs:
        other = charge_max(dataclasses.replace(problem, pv_kw=pv))
        c_max[:shared] = np.minimum(c_max[:shared], other[:shared])
    return c_max


@settings(max_examples=EXAMPLES)
@given(with_scenarios(), st.none() | st.integers(1, 60))
def test_the_risk_aware_plan_keeps_the_reserve(case: tuple[Problem, list[np.ndarray]],
                                               shared: int | None) -> None:
    problem, pvs = case
    check_reserve(problem, solve_scenarios(problem, pvs, shared),
                  shared_charge_max(problem, pvs, shared))


@settings(max_examples=EXAMPLES)
@given(with_scenarios(), st.none() | st.integers(1, 60))
def test_the_risk_aware_plan_meets_every_feasible_target(
        case: tuple[Problem, list[np.ndarray]], shared: int | None) -> None:
    problem, pvs = case
    check_targets(problem, solve_scenarios(problem, pvs, shared),
                  shared_charge_max(problem, pvs, shared))


@settings(max_examples=EXAMPLES)
@given(with_scenarios(), st.none() | st.integers(1, 60))
def test_the_risk_aware_plan_never_exports_in_v2h_nor_exceeds_a_limit(
        case: tuple[Problem, list[np.ndarray]], shared: int | None) -> None:
    problem, pvs = case
    check_limits(problem, solve_scenarios(problem, pvs, shared),
                 shared_charge_max(problem, pvs, shared))


SATURDAY_10 = dt.datetime(2026, 6, 6, 10, 0, tzinfo=dt.UTC)
N = 4 * 36


def _weekend(pv: np.ndarray) -> Problem:
    hours = (10 + np.arange(N) / 4) % 24
    imp = np.where((hours >= 16) & (hours < 21), 0.50, 0.30)
    return Problem(SATURDAY_10, imp, np.full(N, 0.05), pv, np.full(N, 0.5), soc_pct=40.0,
                   plugged_now=True, trips=(Trip(N - 2, N + 40, 80.0, 9.5),),
                   battery=Battery(capacity_kwh=60.0, reserve_pct=30.0, max_soc_pct=90.0),
                   limits=Limits())


def test_a_sunny_hour_is_used_when_tomorrow_may_be_dull() -> None:
    """Sun now; tomorrow as sunny in four of seven measured days, dark in three. The plan on the
    mean forecast waits half an hour (calendar wear: charge late, tomorrow's mean sun will do);
    the risk-aware plan charges from the sun now, because in three scenarios of seven
    tomorrow's charge would be bought, and with one decision for the first hour only, too."""
    hours = (10 + np.arange(N) / 4) % 24
    sunny = np.where((hours >= 10) & (hours < 16), 5.5, 0.0)
    dull = np.where(np.arange(N) < 14 * 4, sunny, 0.0)  # Saturday's sun only
    days = [sunny] * 4 + [dull] * 3
    problem = _weekend(np.mean(days, axis=0))
    assert solve(problem).steps[0].ev_kw == 0.0  # the bet on the mean
    for shared in (None, 4):
        hedged = solve_scenarios(problem, days, shared).steps[:4]
        assert all(s.ev_kw >= 4.9 and s.mode == "charge" for s in hedged), (shared, hedged)


def test_without_scenarios_it_is_the_plain_plan() -> None:
    problem = _weekend(np.zeros(N))
    a, b = solve(problem), solve_scenarios(problem, [])
    assert [s.ev_kw for s in a.steps] == [s.ev_kw for s in b.steps]


@pytest.mark.parametrize(("bad", "message"), [
    (np.full(N, np.nan), r"pv scenario 1\[0\] = nan: must be a finite number"),
    (np.full(N, -1.0), r"pv scenario 1\[0\] = -1: must be >= 0"),
    (np.zeros(N - 1), r"pv scenario 1: 143 values, the horizon has 144 steps"),
])
def test_a_bad_scenario_is_refused_by_name(bad: np.ndarray, message: str) -> None:
    with pytest.raises(PlannerInputError, match=message):
        solve_scenarios(_weekend(np.zeros(N)), [np.zeros(N), bad])
