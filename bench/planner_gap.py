"""Where the planner's gap to perfect foresight comes from, and what closes it (docs/planner.md).

    .venv/bin/python bench/planner_gap.py [--windows 31,182] [--days 28] [--only NAME,...]

The same household, tariffs and execution as bench/planner.py, on 28-day windows (February and
July by default; the load model is first taught the 28 days before the window, as a household
that has run the planner for a month has it). Each variant changes one input of the rolling
planner; the optimum is one program over the window with the actual data.

PV forecasts compared:
- ``persistence``: yesterday's measured profile (bench/planner.py's first planner).
- ``csi``: the production fallback (gateway/planner/forecasts.py ``persistence_pv``): clear sky
  (Haurwitz, a horizontal array) x yesterday's clear-sky index.
- ``dayahead``: a weather service's day-ahead forecast, modelled as the actual PV with a
  multiplicative error: a day factor exp(N(0, 0.3)) (how wrong the day's cloudiness is) times an
  hourly factor exp(N(0, 0.3)), seeded, mean-corrected, clipped to the array's peak. The
  resulting relative RMSE of hourly daylight values is printed; published single-site day-ahead
  errors are 30-50 % of the mean (Lorenz et al. 2009, IEEE J-STARS 2:2; Antonanzas et al. 2016,
  Solar Energy 136:78). Multiplying the actual keeps overcast days dark, which is kinder than a
  real forecast: read its figure as the gap for a good forecast of that RMSE.
- ``exact``: the actual PV (no forecast error).
- the service's own history (2026-12-04): the median of the last 3 days, the mean of the last 7
  (what gateway/planner/forecasts.py ``PvHistory`` now does), yesterday shrunk halfway toward
  that mean, and the mean today with the 7 days' lower quartile from midnight on.
- part 2 (2026-12-04, gateway/planner/pv_methods.py): the 7-day mean with the rest of today
  corrected by today's measured PV so far (what ``PvHistory`` now does), analogue days (the 5
  of the last 21 nearest today's morning), the mean of 14 days, 28 days exponentially weighted,
  and combinations; ``FORGETTING`` variants run the load model with a 14-day half-life,
  ``SINCE_START`` ones teach it every day since 1 January instead of the 28 days before.
Every source except ``ORACLES`` reads only what was measured before the plan's step
(tests/test_planner_pv_methods.py proves it for each).
A name ending in " + absorb" runs that variant with ``claim_for(absorb=True)`` (an unforecast
PV surplus into the car as far as the plan buys that energy dearer later); one ending in
" + lagged surplus" carries a charge from the PV surplus out on the surplus of the step before,
as this benchmark did until 2026-12-04 (bench/planner.py ``SURPLUS_LAG_STEPS``); " + price
persistence" plans past the published day-ahead prices on the last published day's (the
service's ``[planner] price_persistence``; without it, as every variant here, the horizon ends
with the published prices). The suffixes combine in the order: price persistence, absorb,
lagged surplus.
``SCENARIO_VARIANTS`` (2026-12-04): the risk-aware plan (gateway/planner/optimiser.py
``solve_scenarios``) on the 7-day mean and the seven days as PV scenarios, the decision shared
for the first hour, until midnight, or the whole horizon (what ``[planner] pv_scenarios`` does).
Nothing is fitted to the benchmark: the error's spreads, the days and the quartile are fixed a
priori, not tuned; which variant the service uses was chosen on these windows (docs/planner.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import planner as bench  # bench/planner.py

from gateway.planner import pv_methods
from gateway.planner.forecasts import LoadModel, persistence_pv
from gateway.planner.model import Plan
from gateway.planner.optimiser import solve, solve_scenarios

LAT, LON = 36.1, -79.95  # Greensboro, NC (the TMY file's site)
SIGMA_DAY, SIGMA_HOUR = 0.3, 0.3
FORECAST_SEED = 11
DAY = 96


@dataclasses.dataclass
class Window:
    year: bench.Year  # the window itself
    pv_full: np.ndarray  # the whole year's PV (for yesterday's values)
    load_full: np.ndarray
    offset: int  # the window's first step in the whole year
    dayahead: np.ndarray  # the whole year's day-ahead PV forecast


def dayahead_forecast(pv: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(FORECAST_SEED)
    days = len(pv) // DAY
    day = np.repeat(np.exp(rng.normal(-SIGMA_DAY ** 2 / 2, SIGMA_DAY, days)), DAY)
    hour = np.repeat(np.exp(rng.normal(-SIGMA_HOUR ** 2 / 2, SIGMA_HOUR, days * 24)), 4)
    return np.clip(pv[:days * DAY] * day * hour, 0.0, bench.KWP)


def rrmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    f = forecast.reshape(-1, 4).mean(axis=1)
    a = actual[:len(forecast)].reshape(-1, 4).mean(axis=1)
    day = a > 0.05
    return float(np.sqrt(np.mean((f[day] - a[day]) ** 2)) / a[day].mean())


def window(tariff: str, day0: int, days: int) -> Window:
    full = bench.make_year(tariff, 365)
    k0, k1 = day0 * DAY, (day0 + days) * DAY
    start = full.start + dt.timedelta(days=day0)
    published = np.clip(full.published[k0:k1] - k0, 0, k1 - k0)
    year = bench.Year(start, k1 - k0, full.pv[k0:k1], full.load[k0:k1], full.imp[k0:k1],
                      full.exp[k0:k1], published)
    return Window(year, full.pv, full.load, k0, dayahead_forecast(full.pv))


LOAD_HALF_LIFE_DAYS = 14.0  # the forgetting load model's half-life (a priori)


def trained_model(w: Window, half_life_days: float | None = None,
                  since_start: bool = False) -> LoadModel:
    """The load model taught the 28 days before the window, or (``since_start``) every day
    since 1 January, as the year benchmark's planner has it."""
    model = LoadModel.empty(half_life_days)
    zone = w.year.start.tzinfo
    first = 0 if since_start else max(w.offset - 28 * DAY, 0)
    for i in range(first, w.offset):
        t = (dt.datetime(2023, 1, 1, tzinfo=zone)
             + dt.timedelta(hours=bench.STEP_H * i)).astimezone(zone)
        model.learn(t, w.load_full[i])
    return model


PvSource = Callable[[Window, int, list[dt.datetime]], np.ndarray]
ScenarioSource = Callable[[Window, int, list[dt.datetime]], list[np.ndarray]]


def pv_persistence(w: Window, k: int, _times: list[dt.datetime]) -> np.ndarray:
    g = w.offset + k
    return np.resize(w.pv_full[g - DAY:g], len(_times))


def pv_csi(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    g = w.offset + k
    day_start = g - (g % DAY)  # midnight of the window's time zone (the arrays start at 00:00)
    yesterday = float(w.pv_full[day_start - DAY:day_start].sum() * bench.STEP_H)
    return persistence_pv(times, LAT, LON, bench.KWP, yesterday)


def pv_csi_tilt(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The fallback with the index allowed up to 2 (a 30-degree array in winter yields up to
    about twice the horizontal model): chosen from that geometry, not fitted."""
    g = w.offset + k
    day_start = g - (g % DAY)
    yesterday = float(w.pv_full[day_start - DAY:day_start].sum() * bench.STEP_H)
    return persistence_pv(times, LAT, LON, bench.KWP, yesterday, max_index=2.0)


def _past_days(w: Window, k: int, days: int) -> np.ndarray:
    """The last ``days`` whole days of measured PV before step ``k``'s day, one row each."""
    g = w.offset + k
    day_start = g - (g % DAY)
    first = max(day_start - days * DAY, 0)
    return w.pv_full[first:day_start].reshape(-1, DAY)


def _profile(w: Window, k: int, n: int, profile: np.ndarray) -> np.ndarray:
    """``profile`` (one day, from midnight) laid over the horizon that starts at step ``k``."""
    g = w.offset + k
    return np.resize(np.roll(profile, -(g % DAY)), n)


def pv_median3(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The median of the last three days' measured PV, slot by slot (N chosen a priori)."""
    return _profile(w, k, len(times), np.median(_past_days(w, k, 3), axis=0))


def pv_mean7(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The mean of the last seven days' measured PV, slot by slot (N chosen a priori)."""
    return _profile(w, k, len(times), _past_days(w, k, 7).mean(axis=0))


def pv_blend(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """Yesterday's profile shrunk halfway toward the last seven days' mean (weight a priori)."""
    rows = _past_days(w, k, 7)
    return _profile(w, k, len(times), 0.5 * rows[-1] + 0.5 * rows.mean(axis=0))


def pv_hedged(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The seven-day mean for the rest of today, the seven days' lower quartile per slot from
    midnight on (sun later is less sure than sun now; the quartile chosen a priori)."""
    rows = _past_days(w, k, 7)
    today = _profile(w, k, len(times), rows.mean(axis=0))
    later = _profile(w, k, len(times), np.percentile(rows, 25, axis=0))
    g = w.offset + k
    rest = DAY - g % DAY
    return np.concatenate([today[:rest], later[rest:]])


def _today(w: Window, k: int) -> tuple[np.ndarray, int]:
    """Today's measured PV before step ``k`` (NaN from ``k`` on) and ``k``'s slot of the day."""
    g = w.offset + k
    now_slot = g % DAY
    today = np.full(DAY, np.nan)
    today[:now_slot] = w.pv_full[g - now_slot:g]
    return today, now_slot


def pv_mean14(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The mean of the last fourteen days' measured PV, slot by slot (N chosen a priori)."""
    return _profile(w, k, len(times), _past_days(w, k, 14).mean(axis=0))


def pv_weighted(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The last 28 days' measured PV, exponentially weighted (half-life 4 days, a priori:
    pv_methods.EW_DAYS, EW_HALF_LIFE_DAYS)."""
    rows = _past_days(w, k, pv_methods.EW_DAYS)
    return _profile(w, k, len(times), pv_methods.weighted_mean(rows))


def pv_intraday(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The 7-day mean, the rest of today scaled by today's measured PV so far over that mean's
    (pv_methods.intraday_ratio: clamped 0.2-2, at least 0.5 kWh expected, fading in 3 h)."""
    base = _past_days(w, k, 7).mean(axis=0)
    today, now_slot = _today(w, k)
    ratio = pv_methods.intraday_ratio(base, today, now_slot)
    return pv_methods.intraday_corrected(_profile(w, k, len(times), base), now_slot, ratio)


def pv_analogue(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The 5 days among the last 21 whose measured morning is nearest today's: the rest of
    today from their mean, from midnight on their next days' mean (pv_methods.analogue_profiles);
    the 7-day mean while today's morning holds too little sun to compare."""
    today, now_slot = _today(w, k)
    found = pv_methods.analogue_profiles(_past_days(w, k, pv_methods.ANALOGUE_DAYS), today,
                                         now_slot)
    if found is None:
        return pv_mean7(w, k, times)
    return pv_methods.laid_two(found[0], found[1], now_slot, len(times))


def pv_mean14_intraday(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The 14-day mean, the rest of today corrected by today's measured PV so far (the two
    that helped on their own, combined; parameters as pv_mean14 and pv_intraday)."""
    base = _past_days(w, k, 14).mean(axis=0)
    today, now_slot = _today(w, k)
    ratio = pv_methods.intraday_ratio(base, today, now_slot)
    return pv_methods.intraday_corrected(_profile(w, k, len(times), base), now_slot, ratio)


def pv_analogue_today(w: Window, k: int, times: list[dt.datetime]) -> np.ndarray:
    """The rest of today from the 5 analogue days of the last 21 (as pv_analogue), the
    14-day mean from midnight on and while today's morning holds too little sun."""
    today, now_slot = _today(w, k)
    found = pv_methods.analogue_profiles(_past_days(w, k, pv_methods.ANALOGUE_DAYS), today,
                                         now_slot)
    later = _past_days(w, k, 14).mean(axis=0)
    if found is None:
        return _profile(w, k, len(times), later)
    return pv_methods.laid_two(found[0], later, now_slot, len(times))


def pv_dayahead(w: Window, k: int, _times: list[dt.datetime]) -> np.ndarray:
    g = w.offset + k
    return w.dayahead[g:g + len(_times)]


def pv_exact(w: Window, k: int, _times: list[dt.datetime]) -> np.ndarray:
    g = w.offset + k
    return w.pv_full[g:g + len(_times)]


def pv_days7(w: Window, k: int, times: list[dt.datetime]) -> list[np.ndarray]:
    """The last seven days' measured profiles, each laid over the horizon (PV scenarios)."""
    return [_profile(w, k, len(times), row) for row in _past_days(w, k, 7)]


def shared_hour(_w: Window, _k: int) -> int:
    """One decision for the hour carried out before the next plan; recourse after."""
    return 4


def shared_all(_w: Window, _k: int) -> int:
    """One plan for every scenario: its expected cost (no scenario knows its future)."""
    return 10 ** 6


def shared_today(w: Window, k: int) -> int:
    """One decision until midnight (tomorrow's sun is not known before tomorrow), at least
    an hour."""
    return max(DAY - (w.offset + k) % DAY, 4)


def rolling(w: Window, pv: PvSource, exact_load: bool, horizon: int,
            scenarios: ScenarioSource | None = None,
            shared: Callable[[Window, int], int] = shared_hour) -> bench.Strategy:
    def strategy(year: bench.Year, k: int, soc: float, model: LoadModel) -> Plan:
        start = (year.start + dt.timedelta(hours=bench.STEP_H * k)).astimezone(year.start.tzinfo)
        times = [start + dt.timedelta(hours=bench.STEP_H * j) for j in range(horizon)]
        g = w.offset + k
        load = w.load_full[g:g + horizon] if exact_load else model.forecast(times)
        problem = bench.problem_at(year, k, soc, horizon, pv=pv(w, k, times)[:horizon],
                                   load=load, price_persistence=PRICE_PERSISTENCE)
        if scenarios is None:
            return solve(problem)
        return solve_scenarios(problem, [s[:problem.n] for s in scenarios(w, k, times)],
                               shared(w, k))
    return strategy


H36, H48 = bench.HORIZON, 4 * 48
# name: (PV source, exact load?, horizon, re-plan every N steps); "+ absorb": claim_for(absorb=True)
VARIANTS: dict[str, tuple[PvSource, bool, int, int]] = {
    "persistence PV, learned load": (pv_persistence, False, H36, 4),
    "exact PV, learned load": (pv_exact, False, H36, 4),
    "persistence PV, exact load": (pv_persistence, True, H36, 4),
    "exact PV, exact load": (pv_exact, True, H36, 4),
    "exact PV, exact load, 48 h": (pv_exact, True, H48, 4),
    "persistence PV, learned load, 15 min": (pv_persistence, False, H36, 1),
    "clear-sky x CSI PV, learned load": (pv_csi, False, H36, 4),
    "clear-sky x CSI (up to 2) PV, learned load": (pv_csi_tilt, False, H36, 4),
    "median of 3 days PV, learned load": (pv_median3, False, H36, 4),
    "mean of 7 days PV, learned load": (pv_mean7, False, H36, 4),
    "yesterday/7-day-mean blend PV, learned load": (pv_blend, False, H36, 4),
    "7-day mean today, lower quartile later, learned load": (pv_hedged, False, H36, 4),
    "day-ahead PV, learned load": (pv_dayahead, False, H36, 4),
    "day-ahead PV, learned load, 15 min": (pv_dayahead, False, H36, 1),
    "mean of 14 days PV, learned load": (pv_mean14, False, H36, 4),
    "weighted 28 days PV, learned load": (pv_weighted, False, H36, 4),
    "intraday-corrected 7-day mean PV, learned load": (pv_intraday, False, H36, 4),
    "analogue days PV, learned load": (pv_analogue, False, H36, 4),
    "mean of 7 days PV, forgetting load": (pv_mean7, False, H36, 4),
    "14-day mean + intraday PV, learned load": (pv_mean14_intraday, False, H36, 4),
    "analogue today, 14-day mean later PV, learned load": (pv_analogue_today, False, H36, 4),
    "14-day mean + intraday PV, forgetting load": (pv_mean14_intraday, False, H36, 4),
    "intraday-corrected 7-day mean PV, forgetting load": (pv_intraday, False, H36, 4),
    "mean of 7 days PV, load learned since 1 January": (pv_mean7, False, H36, 4),
    "mean of 7 days PV, forgetting load learned since 1 January": (pv_mean7, False, H36, 4),
}
# the variants whose load model forgets (LoadModel half-life LOAD_HALF_LIFE_DAYS)
FORGETTING = {"mean of 7 days PV, forgetting load",
              "14-day mean + intraday PV, forgetting load",
              "intraday-corrected 7-day mean PV, forgetting load",
              "mean of 7 days PV, forgetting load learned since 1 January"}
SINCE_START = {"mean of 7 days PV, load learned since 1 January",
               "mean of 7 days PV, forgetting load learned since 1 January"}
# PV sources that see the actual future on purpose (the oracle and the modelled weather
# service); every other source may read only what was measured before the plan's step
# (tests/test_planner_bench.py proves it for each)
ORACLES: set[PvSource] = {pv_exact, pv_dayahead}
# name: (PV forecast, PV scenarios): the risk-aware plan (optimiser.solve_scenarios), learned load
SCENARIO_VARIANTS: dict[str, tuple[PvSource, ScenarioSource, Callable[[Window, int], int]]] = {
    "7-day mean PV + the 7 days as scenarios, learned load": (pv_mean7, pv_days7, shared_hour),
    "the same, one plan for all scenarios": (pv_mean7, pv_days7, shared_all),
    "the same, one decision until midnight": (pv_mean7, pv_days7, shared_today),
}


ABSORB_SUFFIX, LAGGED_SUFFIX = " + absorb", " + lagged surplus"  # execution suffixes, in this order
PRICES_SUFFIX = " + price persistence"  # first of the suffixes: prices past the published day
PRICE_PERSISTENCE = False  # set per variant by main()


def _base(name: str) -> str:
    """The variant a name runs, without its execution suffixes."""
    return name.removesuffix(LAGGED_SUFFIX).removesuffix(ABSORB_SUFFIX).removesuffix(
        PRICES_SUFFIX)


def main() -> int:
    global PRICE_PERSISTENCE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", default="31,182", help="first day of each window (0 = 1 Jan)")
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--only", default="", help="semicolon-separated variant names (default: all)")
    args = ap.parse_args()
    only = [v for v in args.only.split(";") if v] or list(VARIANTS)
    unknown = [v for v in only if _base(v) not in {*VARIANTS, *SCENARIO_VARIANTS}]
    if unknown:
        ap.error(f"unknown variants: {unknown}")
    for tariff in ("tou", "dynamic"):
        for day0 in (int(d) for d in args.windows.split(",")):
            w = window(tariff, day0, args.days)
            best = sum(bench.foresight(w.year)[:2])
            g0 = w.offset
            print(f"\n{tariff}, days {day0}-{day0 + args.days}: optimum {best:.2f}; day-ahead "
                  f"PV rRMSE {100 * rrmse(w.dayahead[g0:g0 + w.year.n], w.year.pv):.0f} %",
                  flush=True)
            for name in only:
                base = _base(name)
                if base in SCENARIO_VARIANTS:
                    pv, scen, shared = SCENARIO_VARIANTS[base]
                    strategy = rolling(w, pv, False, H36, scen, shared)
                    block = 4
                else:
                    pv, exact_load, horizon, block = VARIANTS[base]
                    strategy = rolling(w, pv, exact_load, horizon)
                bench.ABSORB = name.removesuffix(LAGGED_SUFFIX).endswith(ABSORB_SUFFIX)  # the
                # variants before 2026-12-04 ran without absorbing; their names say when they do
                bench.SURPLUS_LAG_STEPS = 1 if name.endswith(LAGGED_SUFFIX) else 0
                PRICE_PERSISTENCE = PRICES_SUFFIX in name
                half_life = LOAD_HALF_LIFE_DAYS if base in FORGETTING else None
                energy, wear, _ = bench.execute(w.year, strategy, block=block,
                                                model=trained_model(w, half_life,
                                                                    base in SINCE_START))
                total = energy + wear
                gap = 100 * (total - best) / abs(best)
                print(f"  {name:<40} total {total:9.2f}  gap {gap:6.2f} %", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
