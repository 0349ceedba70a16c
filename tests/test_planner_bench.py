"""A smoke test of the year benchmark's machinery (bench/planner.py, bench/planner_gap.py) on
two synthetic days: the benchmark itself stays out of the suite (it takes minutes)."""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import numpy as np
from bench_modules import bench_module

_module = bench_module


def _two_days(bench: ModuleType) -> object:
    n = 2 * 96
    start = dt.datetime(2023, 2, 6, tzinfo=dt.UTC)  # a Monday
    hours = (np.arange(n) % 96) / 4.0
    pv = np.clip(4.0 * np.sin(np.pi * (hours - 7.0) / 10.0), 0.0, None)
    load = np.full(n, 0.4) + 0.8 * ((hours >= 17) & (hours < 21))
    imp = np.where((hours >= 16) & (hours < 21), 0.55, 0.25)
    imp = np.where(hours < 7, 0.12, imp)
    return bench.Year(start, n, pv, load, imp, np.full(n, 0.05), np.full(n, n))


def test_the_benchmark_runs_and_orders_the_strategies() -> None:
    bench = _module("planner")
    year = _two_days(bench)
    arrival = sum(bench.execute(year, bench.on_arrival)[:2])
    rolling = sum(bench.execute(year, bench.rolling_actual)[:2])
    best = sum(bench.foresight(year)[:2])
    assert np.isfinite([arrival, rolling, best]).all()
    # exact forecasts: the rolling planner is close to the optimum (either side: the run's end
    # values the battery's content at the median price, the optimum at its terminal value)
    assert abs(rolling - best) <= 0.05 * abs(best) and best < arrival, (best, rolling, arrival)
    assert not bench.SHORT, bench.SHORT  # every departure met its target


def test_the_day_ahead_forecast_model_is_seeded_and_has_the_documented_spread() -> None:
    gap = _module("planner_gap")
    hours = (np.arange(365 * 96) % 96) / 4.0
    pv = np.clip(5.0 * np.sin(np.pi * (hours - 6.0) / 12.0), 0.0, None)
    a, b = gap.dayahead_forecast(pv), gap.dayahead_forecast(pv)
    assert np.array_equal(a, b) and (a >= 0).all() and (a <= gap.bench.KWP).all()
    assert 0.3 <= gap.rrmse(a, pv) <= 0.5  # the published single-site day-ahead range


def test_price_persistence_reads_only_the_prices_published_by_then() -> None:
    """The benchmark's planner past the published day-ahead prices (as the service's
    ``[planner] price_persistence``): changing every price from the last published step on
    changes nothing it plans on; each unpublished step is the same time a day earlier; where
    a day earlier is before the data, the horizon ends there."""
    bench = _module("planner")
    base = _two_days(bench)
    imp = base.imp + np.arange(base.n)  # every step's price its own

    def year(prices: np.ndarray, known: int) -> object:
        return bench.Year(base.start, base.n, base.pv, base.load, prices, base.exp,
                          np.full(base.n, known))

    problem = bench.problem_at(year(imp, 100), 0, 50.0, 144, price_persistence=True)
    assert problem.n == 144
    assert problem.import_price[100] == imp[4] and problem.import_price[143] == imp[47]
    changed = np.where(np.arange(base.n) >= 100, -99.0, imp)
    again = bench.problem_at(year(changed, 100), 0, 50.0, 144, price_persistence=True)
    assert np.array_equal(problem.import_price, again.import_price)
    short = bench.problem_at(year(imp, 60), 0, 50.0, 144, price_persistence=True)
    assert short.n == 60  # step 60 would need the day before the data: it ends there
