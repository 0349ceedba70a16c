"""The PV forecast pieces from a household's own measurements (gateway/planner/pv_methods.py),
the forgetting load model, and the benchmark's rule that a forecast sees only the past
(docs/planner.md, "Closing the gap")."""

from __future__ import annotations

import datetime as dt
import math
from types import ModuleType

import numpy as np
import pytest
from bench_modules import bench_module

from gateway.planner import pv_methods as pm
from gateway.planner.forecasts import LoadModel
from gateway.planner.model import PlannerInputError

BAD = (float("nan"), float("inf"), -float("inf"), -3.0)
HOURS = np.arange(96) / 4.0
SUNNY = np.clip(5.0 * np.sin(np.pi * (HOURS - 6.0) / 12.0), 0.0, None)  # 06:00-18:00


_bench = bench_module


def _ok(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).all() and (a >= 0).all())


def test_a_bright_morning_raises_the_rest_of_today_and_fades_by_midnight() -> None:
    base = 0.5 * SUNNY  # the week was dull
    today = np.full(96, np.nan)
    today[:44] = SUNNY[:44]  # measured until 11:00: twice the forecast
    ratio = pm.intraday_ratio(base, today, 44)
    assert ratio == pytest.approx(2.0)
    laid = pm.laid(base, 44, 144)
    got = pm.intraday_corrected(laid, 44, ratio)
    assert got[0] == pytest.approx(2 * laid[0])  # now: the measured clearness
    h = 12  # 3 h on: one time constant
    assert got[h] == pytest.approx(laid[h] * (1 + math.exp(-1)))
    assert np.array_equal(got[52:], laid[52:])  # from midnight on: the forecast unchanged
    dull = today.copy()
    dull[:44] = 0.01 * SUNNY[:44]
    assert pm.intraday_ratio(base, dull, 44) == pm.INTRADAY_RATIO_MIN  # clamped
    bright = today.copy()
    bright[:44] = 10 * SUNNY[:44]
    assert pm.intraday_ratio(base, bright, 44) == pm.INTRADAY_RATIO_MAX


def test_no_ratio_before_the_forecast_expects_enough_sun() -> None:
    today = np.full(96, np.nan)
    today[:26] = 0.0  # 06:30: dark so far, as forecast
    assert pm.intraday_ratio(SUNNY, today, 26) is None
    laid = pm.laid(SUNNY, 26, 144)
    assert np.array_equal(pm.intraday_corrected(laid, 26, None), laid)
    assert pm.intraday_ratio(SUNNY, today, 0) is None  # midnight: nothing measured


@pytest.mark.parametrize("bad", BAD)
def test_bad_measurements_count_as_not_measured(bad: float) -> None:
    today = np.full(96, np.nan)
    today[:48] = SUNNY[:48]
    clean = pm.intraday_ratio(SUNNY, today, 48)
    today[40] = bad  # one glitch in the morning
    ratio = pm.intraday_ratio(SUNNY, today, 48)
    assert ratio is not None and math.isfinite(ratio)
    assert ratio == pytest.approx(1.0, abs=0.05) and clean == pytest.approx(1.0)
    assert _ok(pm.intraday_corrected(pm.laid(SUNNY, 48, 144), 48, ratio))
    everything_bad = np.full(96, bad)
    assert pm.intraday_ratio(SUNNY, everything_bad, 60) is None
    days = np.array([SUNNY * f for f in (0.2, 1.0, 0.5, 0.9)])
    found = pm.analogue_profiles(days, everything_bad, 60)
    assert found is None  # nothing measured: no morning to compare
    found = pm.analogue_profiles(days, today, 48)
    assert found is not None and all(_ok(p) for p in found)


def test_the_analogue_days_are_the_nearest_mornings_and_their_next_days() -> None:
    factors = (0.2, 1.0, 0.3, 0.95, 0.25, 0.6)  # oldest first; the last one yesterday
    days = np.array([SUNNY * f for f in factors])
    today = np.full(96, np.nan)
    today[:44] = SUNNY[:44]  # a bright morning
    found = pm.analogue_profiles(days, today, 44, k=2)
    assert found is not None
    rest, later = found
    np.testing.assert_allclose(rest, SUNNY * (1.0 + 0.95) / 2)  # the two bright days
    np.testing.assert_allclose(later, SUNNY * (0.3 + 0.25) / 2)  # what followed them
    got = pm.laid_two(rest, later, 44, 144)
    assert len(got) == 144 and got[0] == rest[44] and got[52] == later[0]
    assert pm.analogue_profiles(days[:1], today, 44) is None  # one day: nothing to follow
    early = np.full(96, np.nan)
    early[:20] = 0.0
    assert pm.analogue_profiles(days, early, 20) is None  # 05:00: no morning yet


def test_the_weighted_mean_leans_on_the_latest_days() -> None:
    days = np.array([SUNNY * 0.0, SUNNY * 1.0])
    got = pm.weighted_mean(days, half_life_days=1.0)
    np.testing.assert_allclose(got, SUNNY * (0.5 / (0.25 + 0.5)))
    np.testing.assert_allclose(pm.weighted_mean(days, 1e9), SUNNY * 0.5)
    assert _ok(pm.weighted_mean(days))


def test_the_forgetting_load_model_follows_a_change_the_plain_mean_does_not() -> None:
    t0 = dt.datetime(2026, 1, 5, 18, 0, tzinfo=dt.UTC)  # a Monday
    plain, forgetting = LoadModel.empty(), LoadModel.empty(half_life_days=14.0)
    for week in range(20):  # Mondays at 18:00
        t = t0 + dt.timedelta(days=7 * week)
        kw = 2.0 if week < 10 else 1.0  # the household halves its evening load
        for model in (plain, forgetting):
            model.learn(t, kw)
            for bad in BAD:
                model.learn(t, bad)  # glitches are ignored
    ask = [t0 + dt.timedelta(days=7 * 20)]
    assert plain.forecast(ask)[0] == pytest.approx(1.5)
    assert 1.0 <= forgetting.forecast(ask)[0] < 1.06  # ten weeks on: 1/32 of the old weight
    back = LoadModel.empty(half_life_days=14.0)
    back.learn(t0, 2.0)
    back.learn(t0 - dt.timedelta(days=7), 1.0)  # a clock stepped back: no weight above 1
    assert back.forecast([t0])[0] == pytest.approx(1.5)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(PlannerInputError, match="load half-life"):
            LoadModel.empty(half_life_days=bad)


def _window(gap: ModuleType, offset: int) -> object:
    """A synthetic window: 60 days of varied PV and load, the window from ``offset``."""
    bench = gap.bench
    rng = np.random.default_rng(3)
    n = 60 * 96
    pv = np.tile(SUNNY, 60) * np.repeat(rng.uniform(0.1, 1.0, 60), 96)
    load = rng.uniform(0.2, 2.0, n)
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=offset // 96)
    m = n - offset
    year = bench.Year(start, m, pv[offset:], load[offset:], np.full(m, 0.3),
                      np.full(m, 0.05), np.full(m, m))
    return gap.Window(year, pv, load, offset, gap.dayahead_forecast(pv))


def _looks_ahead(gap: ModuleType, source: object, k: int) -> bool:
    """Whether ``source``'s forecast at step ``k`` changes when the data from ``k`` on does."""
    w = _window(gap, 30 * 96)
    times = [w.year.start + dt.timedelta(minutes=15 * (k + j)) for j in range(144)]
    before = np.array(source(w, k, times), copy=True)  # type: ignore[operator]
    g = w.offset + k
    w.pv_full[g:] = 5.0 - w.pv_full[g:]  # another future
    w.load_full[g:] = 3.0
    after = np.asarray(source(w, k, times))  # type: ignore[operator]
    assert _ok(before) and _ok(after)
    return not np.array_equal(before, after)


def test_every_benchmark_forecast_sees_only_what_was_measured_before_the_plan() -> None:
    """Any PV source added to bench/planner_gap.py is checked here unless it is declared an
    oracle (exact PV, the modelled weather service); the check itself catches exact PV."""
    gap = _bench("planner_gap")
    sources = {pv for pv, *_ in gap.VARIANTS.values()}
    sources |= {pv for pv, _, _ in gap.SCENARIO_VARIANTS.values()}
    scenario_sources = {scen for _, scen, _ in gap.SCENARIO_VARIANTS.values()}
    for k in (0, 1, 41, 44, 60, 95, 96 + 50):  # midnight, a step after, morning, noon, ...
        for source in sources - gap.ORACLES:
            assert not _looks_ahead(gap, source, k), (source.__name__, k)
        for scen in scenario_sources:
            def joined(w: object, kk: int, t: list[dt.datetime], s: object = scen) -> np.ndarray:
                return np.concatenate(s(w, kk, t))  # type: ignore[operator]
            assert not _looks_ahead(gap, joined, k), (scen.__name__, k)
        assert _looks_ahead(gap, gap.pv_exact, k)  # the check catches a source that peeks


def test_the_benchmark_teaches_the_load_model_only_past_steps() -> None:
    """bench/planner.py ``execute``: when the strategy plans step k, the load model has
    learned steps 0..k-1 and nothing after."""
    bench = _bench("planner")
    n = 2 * 96
    start = dt.datetime(2023, 2, 6, tzinfo=dt.UTC)
    year = bench.Year(start, n, np.tile(SUNNY, 2), np.full(n, 0.5), np.full(n, 0.3),
                      np.full(n, 0.05), np.full(n, n))
    seen: list[tuple[int, float]] = []

    def spy(_y: object, k: int, _soc: float, model: LoadModel) -> np.ndarray:
        seen.append((k, float(model.counts.sum())))
        return np.zeros(bench.BLOCK)

    short = len(bench.SHORT)
    bench.execute(year, spy, model=LoadModel.empty())  # no forgetting: counts are samples
    del bench.SHORT[short:]  # the idle spy leaves short departures: not the benchmark's
    assert seen and all(count == k for k, count in seen), seen[:5]


def test_the_year_benchmark_pv_forecast_sees_only_the_past() -> None:
    """bench/planner.py ``pv_forecast`` (the service's forecast on the year's array)."""
    bench = _bench("planner")
    rng = np.random.default_rng(5)
    pv = np.tile(SUNNY, 20) * np.repeat(rng.uniform(0.1, 1.0, 20), 96)
    for k in (0, 10 * 96, 10 * 96 + 44, 10 * 96 + 95):
        before = bench.pv_forecast(pv, k, 144)
        future = pv.copy()
        future[k:] = 5.0 - future[k:]
        assert _ok(before) and np.array_equal(before, bench.pv_forecast(future, k, 144)), k
    peek = pv.copy()
    peek[10 * 96 + 43] += 1.0  # the last step measured before 11:00 does count
    assert not np.array_equal(bench.pv_forecast(pv, 10 * 96 + 44, 144),
                              bench.pv_forecast(peek, 10 * 96 + 44, 144))


def test_the_service_forecast_corrects_the_rest_of_today_from_this_mornings_sun() -> None:
    """``PvHistory.forecast``: the mean of the measured days, the rest of today scaled by
    today's measured PV so far over that mean's (fading), tomorrow the mean; a glitch in
    today's measurements is no sample."""
    from gateway.planner.forecasts import PV_HISTORY_DAYS, PvHistory

    zone = dt.timezone(dt.timedelta(hours=1))
    today = dt.datetime(2026, 6, 10, 0, 0, tzinfo=zone)
    history = PvHistory()
    for back in range(1, PV_HISTORY_DAYS + 1):
        day = today - dt.timedelta(days=back)
        for q in range(96):
            history.learn(day + dt.timedelta(minutes=15 * q), 0.5 * SUNNY[q])  # a dull fortnight
    for q in range(44):  # a bright morning until 11:00
        history.learn(today + dt.timedelta(minutes=15 * q), float(SUNNY[q]))
        history.learn(today + dt.timedelta(minutes=15 * q, seconds=1), float("nan"))
    now = today + dt.timedelta(hours=11)
    times = [now + dt.timedelta(minutes=15 * j) for j in range(144)]
    got = history.forecast(times)
    assert got is not None and _ok(got)
    base = pm.laid(0.5 * SUNNY, 44, 144)
    assert got[0] == pytest.approx(2 * base[0])  # the clearness measured this morning
    assert got[12] == pytest.approx(base[12] * (1 + math.exp(-1)))  # 3 h on: faded by 1/e
    np.testing.assert_allclose(got[52:], base[52:])  # tomorrow: the fortnight's mean
    dawn = today + dt.timedelta(hours=5)  # nothing to compare yet: the plain mean
    early = history.forecast([dawn + dt.timedelta(minutes=15 * j) for j in range(8)])
    assert early is not None
    np.testing.assert_allclose(early, pm.laid(0.5 * SUNNY, 20, 8))


@pytest.mark.parametrize("seed", range(5))
def test_hostile_measurements_leave_every_forecast_finite_and_not_negative(seed: int) -> None:
    """NaN, inf, negative and absurdly large readings (a meter glitch) in the history and in
    today's measurements: the service's models and every PV piece stay finite and >= 0."""
    from gateway.planner.forecasts import PV_HISTORY_DAYS, PvHistory

    rng = np.random.default_rng(seed)
    hostile = np.array([np.nan, np.inf, -np.inf, -1.0, 1e308, 1e300, 0.0, 3.0])
    t0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    history, load = PvHistory(), LoadModel.empty(half_life_days=14.0)
    for q in range(96 * (PV_HISTORY_DAYS + 1) + 44):
        t = t0 + dt.timedelta(minutes=15 * q)
        value = float(rng.choice(hostile))
        history.learn(t, float(SUNNY[q % 96]))  # every slot measured, then a glitch (the
        history.learn(t, value)  # latest sample wins: a huge one stays)
        load.learn(t, float(SUNNY[q % 96]))
        load.learn(t, value)
    now = t0 + dt.timedelta(days=PV_HISTORY_DAYS + 1, hours=11)
    times = [now + dt.timedelta(minutes=15 * j) for j in range(144)]
    pv = history.forecast(times)
    assert pv is not None and _ok(pv), pv
    assert _ok(load.forecast(times))
    rows = np.where(rng.random((21, 96)) < 0.3, pm.MAX_READING_KW, np.tile(SUNNY, (21, 1)))
    today = rng.choice(hostile, 96)
    ratio = pm.intraday_ratio(rows.mean(axis=0), today, 44)
    assert ratio is None or math.isfinite(ratio)
    assert _ok(pm.intraday_corrected(pm.laid(SUNNY, 44, 144), 44, ratio))
    found = pm.analogue_profiles(rows, today, 44)
    assert found is None or all(_ok(p) for p in found)
    assert _ok(pm.weighted_mean(rows))
