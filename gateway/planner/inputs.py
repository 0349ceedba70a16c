"""One planning problem from the config, the controller's latest numbers and the clock.

The horizon starts at the current 15-minute boundary in the configured time zone. A dynamic
tariff whose file ends earlier is carried on past its end with each unpublished interval priced
as the same time of the last published day (``[planner] price_persistence``, on by default;
off, the horizon is shortened), with a note either way; a tariff that does not cover the next
hour is an error: the planner does not plan on old prices alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from gateway.planner.config import PlannerConfig
from gateway.planner.forecasts import (
    LoadModel,
    PvHistory,
    fallback_load,
    persistence_pv,
    read_series,
)
from gateway.planner.model import STEP_H, Array, PlannerInputError, Problem
from gateway.planner.tariffs import DynamicPrices

MIN_STEPS = 4  # an hour


def horizon_start(now: dt.datetime, cfg: PlannerConfig) -> dt.datetime:
    """``now`` in the planner's zone, rounded down to the 15-minute boundary."""
    local = now.astimezone(cfg.planner.zone)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)


def build_problem(cfg: PlannerConfig, now: dt.datetime, soc_pct: float, plugged: bool, *,
                  load_model: LoadModel | None = None, pv_yesterday_kwh: float | None = None,
                  import_cap_kw: float | None = None, pv_history: PvHistory | None = None,
                  ) -> tuple[Problem, tuple[str, ...]]:
    """The problem for ``now`` and the notes on how it was cut."""
    if now.tzinfo is None:
        raise PlannerInputError(f"now = {now.isoformat()}: needs a UTC offset")
    if cfg.tariff is None:
        raise PlannerInputError("no [tariff]: the planner needs prices")
    start = horizon_start(now, cfg)
    n = round(cfg.planner.horizon_h / STEP_H)
    notes: list[str] = []
    persisted: tuple[Array, Array] | None = None  # prices carried past the published ones
    if isinstance(cfg.tariff, DynamicPrices):
        covered = int((cfg.tariff.covered_until() - start) / dt.timedelta(hours=STEP_H))
        if covered < n:
            if covered < MIN_STEPS:
                raise PlannerInputError(f"prices end at {cfg.tariff.covered_until().isoformat()}"
                                        ": less than an hour ahead; update the price file")
            if cfg.planner.price_persistence:
                persisted = cfg.tariff.persisted(start, n, STEP_H)
                carried = len(persisted[0])
                notes.append(f"prices known until {cfg.tariff.covered_until():%a %H:%M}: the "
                             "hours after priced as the same hours of the last published day"
                             + ("" if carried == n else
                                f"; planning {carried * STEP_H:g} h instead of "
                                f"{cfg.planner.horizon_h:g} h"))
                n = carried
            else:
                notes.append(f"prices known until {cfg.tariff.covered_until():%a %H:%M}: "
                             f"planning {covered * STEP_H:g} h instead of "
                             f"{cfg.planner.horizon_h:g} h")
                n = covered
    times = [start + dt.timedelta(hours=STEP_H * i) for i in range(n)]
    imp, exp = cfg.tariff.prices(start, n, STEP_H) if persisted is None else persisted
    if cfg.pv.forecast_file is not None:
        pv = read_series(cfg.pv.forecast_file, "pv_kw", times)
    elif cfg.pv.kwp > 0:
        measured = None if pv_history is None else pv_history.forecast(times)
        if pv_yesterday_kwh is None and pv_history is not None:
            pv_yesterday_kwh = pv_history.yesterday_kwh(start.date())
        pv = measured if measured is not None else persistence_pv(
            times, cfg.pv.latitude, cfg.pv.longitude, cfg.pv.kwp, pv_yesterday_kwh)
    else:
        pv = np.zeros(n)
    if cfg.load.forecast_file is not None:
        load = read_series(cfg.load.forecast_file, "load_kw", times)
    elif load_model is not None:
        load = load_model.forecast(times)
    else:
        load = fallback_load(times, cfg.load.kwh_per_day)
    trips = cfg.departures.trips(start, n, STEP_H)
    cap = None if import_cap_kw is None else np.full(n, import_cap_kw)
    problem = Problem(start, imp, exp, pv, load, soc_pct=soc_pct, plugged_now=plugged,
                      trips=trips, battery=cfg.battery, limits=cfg.limits, wear=cfg.wear,
                      import_cap_kw=cap)
    if plugged and trips and trips[0].depart == 0:
        problem = dataclasses.replace(problem, trips=trips[1:])  # due now: it is still here
    return problem, tuple(notes)


def pv_scenarios(cfg: PlannerConfig, problem: Problem,
                 pv_history: PvHistory | None) -> list[Array]:
    """The PV scenarios of the risk-aware plan (``optimiser.solve_scenarios``): the measured
    days of ``pv_history`` laid over the horizon, when ``[planner] pv_scenarios`` is on and the
    PV forecast is the history's own (no forecast file); otherwise none (the plain plan)."""
    if (not cfg.planner.pv_scenarios or pv_history is None or cfg.pv.forecast_file is not None
            or cfg.pv.kwp <= 0):
        return []
    return pv_history.scenarios([problem.time(i) for i in range(problem.n)])
