"""A year of a household with a bidirectional charger: the planner against the baselines.

    .venv/bin/python bench/planner.py [--days 365] [--plot docs/planner-bench.png]
        [--pv-scenarios] [--tariffs tou,dynamic] [--save out.json] [--plot-from a.json,b.json]

``--pv-scenarios`` runs the planner as with ``[planner] pv_scenarios = true`` (the risk-aware
plan); ``--tariffs`` and ``--save`` let the two tariffs run as two processes, ``--plot-from``
draws their saved results together.

Data (docs/planner.md, "Benchmark", names every source):
- PV: pvlib's typical meteorological year file 723170TYA.CSV (Greensboro, NC; TMY3), 6 kWp
  facing south at 30 degrees, through pvlib's transposition and PVWatts DC model, 96 % inverter.
- Home load: the project's fallback profile (gateway/planner/forecasts.py, 3500 kWh a year) with
  a seasonal swing (+20 % in January, -20 % in July), a weekend shift and seeded noise.
- Car: 60 kWh, plugged in at home except weekdays 07:30-17:30, 9.5 kWh a trip, 80 % by 07:30,
  backup reserve 30 %, ceiling 90 %, 7.4 kW both ways, V2H (no V2G).
- Tariffs: PG&E EV2-A time-of-use (bench/data/planner/pge_ev2a.toml) and a dynamic tariff on the
  Belgian day-ahead prices of 2023 (bench/data/planner/be_dayahead_2023.csv, ENTSO-E).

Strategies, all executed step by step on the same actual year and priced by the same bill and
wear model: charge on arrival; cheapest slots (evcc without V2H); the planner with the forecasts
it would have (hourly re-plan, prices only as published, the last seven days' mean PV with the
rest of today corrected by today's PV measured so far, and a learned load that forgets with a
14-day half-life); and the perfect-foresight optimum (one linear program over the whole year with
the actual data).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
import tomllib
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.planner import pv_methods
from gateway.planner.baselines import charge_on_arrival, cheapest_slots
from gateway.planner.departures import DeparturePlan, Outing
from gateway.planner.evaluate import EPS_KW, claim_for
from gateway.planner.floors import charge_cap_kw
from gateway.planner.forecasts import FALLBACK_SHAPE, LOAD_HALF_LIFE_DAYS, LoadModel
from gateway.planner.model import Battery, Limits, Plan, Problem
from gateway.planner.optimiser import solve, solve_scenarios
from gateway.planner.tariffs import tou_from_table
from gateway.planner.wear import WearModel

DATA = Path(__file__).resolve().parent / "data" / "planner"
STEP_H = 0.25
BLOCK = 4  # re-plan every hour (4 steps)
HORIZON = 4 * 36  # 36 h ahead
KWP = 6.0
LOAD_KWH_YEAR = 3500.0
SEED = 7
BATTERY = Battery(capacity_kwh=60.0, reserve_pct=30.0, max_soc_pct=90.0)
LIMITS = Limits(max_charge_kw=7.4, max_discharge_kw=7.4, v2h_allowed=True, v2g_allowed=False)
WEAR = WearModel()
OUTING = Outing(dt.time(7, 30), dt.time(17, 30), 80.0, 9.5)
DEPARTURES = DeparturePlan({d: OUTING for d in range(5)}, {})


@dataclasses.dataclass
class Year:
    start: dt.datetime
    n: int
    pv: np.ndarray
    load: np.ndarray
    imp: np.ndarray
    exp: np.ndarray
    published: np.ndarray  # for each step, the step index up to which prices are known then


def pv_year(zone: dt.tzinfo, year: int) -> np.ndarray:
    import pvlib

    path = os.path.join(os.path.dirname(pvlib.__file__), "data", "723170TYA.CSV")
    data, meta = pvlib.iotools.read_tmy3(path, coerce_year=year, map_variables=True)
    loc = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    times = data.index - np.timedelta64(30, "m")  # TMY3 values are for the hour ending
    sun = loc.get_solarposition(times)
    poa = pvlib.irradiance.get_total_irradiance(
        30, 180, sun["apparent_zenith"].to_numpy(), sun["azimuth"].to_numpy(),
        data["dni"].to_numpy(), data["ghi"].to_numpy(), data["dhi"].to_numpy())
    cell = pvlib.temperature.faiman(poa["poa_global"], data["temp_air"].to_numpy(),
                                    data["wind_speed"].to_numpy())
    dc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell, KWP * 1000.0, -0.004)
    hourly = np.clip(np.nan_to_num(np.asarray(dc, dtype=float)) * 0.96 / 1000.0, 0.0, KWP)
    hourly = np.roll(hourly, 1)  # hour ending 01:00 -> the hour starting 00:00
    return np.repeat(hourly, 4)


def load_year(start: dt.datetime, n: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    shape = np.asarray(FALLBACK_SHAPE) / sum(FALLBACK_SHAPE)
    out = np.empty(n)
    per_day = LOAD_KWH_YEAR / 365.0
    for i in range(n):
        t = start + dt.timedelta(hours=STEP_H * i)
        season = 1.0 + 0.2 * np.cos(2 * np.pi * (t.timetuple().tm_yday - 15) / 365.0)
        hour = (t.hour + 2) % 24 if t.weekday() >= 5 else t.hour  # weekends: a later morning
        out[i] = per_day * shape[hour] * season
    noise = rng.lognormal(0.0, 0.35, n)
    return out * noise / noise.mean()


def dynamic_prices(zone: dt.tzinfo) -> tuple[np.ndarray, np.ndarray]:
    rows = [ln.split(",") for ln in (DATA / "be_dayahead_2023.csv").read_text().splitlines()
            if ln and not ln.startswith(("#", "start"))]
    spot = np.repeat(np.array([float(r[1]) for r in rows]) / 1000.0, 4)  # EUR/kWh
    return 1.06 * (spot + 0.13), spot - 0.01


def published_dynamic(start: dt.datetime, n: int) -> np.ndarray:
    """Day-ahead prices for day D are published at 13:00 on D-1."""
    known = np.empty(n, dtype=int)
    for i in range(n):
        t = start + dt.timedelta(hours=STEP_H * i)
        days = 2 if t.hour >= 13 else 1
        end = dt.datetime.combine(t.date() + dt.timedelta(days=days), dt.time(0), t.tzinfo)
        known[i] = min(n, round((end - start) / dt.timedelta(hours=STEP_H)))
    return known


def make_year(tariff: str, days: int) -> Year:
    zone = zoneinfo.ZoneInfo("Europe/Brussels") if tariff == "dynamic" else dt.timezone(
        dt.timedelta(hours=-5))
    start = dt.datetime(2023, 1, 1, tzinfo=zone)
    n = 4 * 24 * days
    pv = pv_year(zone, 2023)[:n]
    load = load_year(start, n)
    if tariff == "dynamic":
        imp, exp = dynamic_prices(zone)
        imp, exp = imp[:n], exp[:n]
        published = published_dynamic(start, n)
    else:
        table = tomllib.loads((DATA / "pge_ev2a.toml").read_text())["tariff"]
        tou = tou_from_table(table)
        imp, exp = tou.prices(start, n, STEP_H)
        published = np.full(n, n)
    return Year(start, n, pv, load, imp, exp, published)


DAY_STEPS = 96


def problem_at(year: Year, k: int, soc_pct: float, length: int,
               pv: np.ndarray | None = None, load: np.ndarray | None = None,
               foresight: bool = False, price_persistence: bool = False) -> Problem:
    """The problem at step ``k``: up to ``length`` steps, cut where the prices published by
    then end; with ``price_persistence`` the horizon runs on past them, each unpublished step
    priced as the same time of the last published day (bench/planner_gap.py's variants)."""
    known = year.n if foresight else int(year.published[k])
    end = min(k + length, year.n, known)
    imp, exp = year.imp[k:end], year.exp[k:end]
    if price_persistence and min(k + length, year.n) > end:
        far = min(k + length, year.n)
        imp, exp = _persisted(year.imp, k, known, far), _persisted(year.exp, k, known, far)
        end = k + len(imp)
    start = year.start + dt.timedelta(hours=STEP_H * k)
    start = start.astimezone(year.start.tzinfo)
    m = end - k
    trips = DEPARTURES.trips(start, m, STEP_H)
    plugged = _home(start)
    if plugged and trips and trips[0].depart == 0:
        trips = trips[1:]
    return Problem(start, imp, exp,
                   year.pv[k:end] if pv is None else pv[:m],
                   year.load[k:end] if load is None else load[:m],
                   soc_pct=soc_pct, plugged_now=plugged, trips=trips, battery=BATTERY,
                   limits=LIMITS, wear=WEAR)


def _persisted(prices: np.ndarray, k: int, known: int, end: int) -> np.ndarray:
    """``prices[k:end]`` with each step from ``known`` on priced as the same time one day
    earlier (again, until a published step): only prices published by then are read. It ends
    early where a day earlier falls before the data (as the service's at its file's start)."""
    out = prices[k:end].copy()
    for j in range(max(known, k), end):
        src = j - DAY_STEPS
        while src >= known:
            src -= DAY_STEPS
        if src < 0:
            return out[:j - k]
        out[j - k] = prices[src]
    return out


def _home(t: dt.datetime) -> bool:
    return not (t.weekday() < 5 and OUTING.leave <= t.time() < OUTING.back)


Strategy = Callable[[Year, int, float, LoadModel], "np.ndarray | Plan"]


# carry plans out with claim_for(absorb=True), as the service does by default
# ([planner] absorb_surplus); --no-absorb and bench/planner_gap.py's variants run without
ABSORB = True
# How many steps old the PV surplus is that a charge-from-surplus claim follows. The service
# re-claims every POLL_S = 5 s with the surplus the controller measures
# (gateway/planner/service.py ``_carry_out``), so within this benchmark's 15-minute steps it
# follows the step's own surplus (0); the finest thing the data knows is the step's mean, the
# same resolution the optimum sees. Until 2026-12-04 it was the step before (1): a lag 180
# times the service's. bench/planner_gap.py's " + lagged surplus" variants run it that way.
SURPLUS_LAG_STEPS = 0
# past the published day-ahead prices, each step priced as the same time of the last published
# day, as the service does by default ([planner] price_persistence); --no-price-persistence:
# the horizon ends with the published prices (the benchmark until 2026-12-04)
PRICE_PERSISTENCE = True


def _claim(plan: Plan, j: int, surplus_kw: float) -> float:
    """What the service claims at step ``j``: signed power, V2H as its ceiling."""
    mode, kw = claim_for(plan, j, LIMITS.max_discharge_kw, surplus_kw, absorb=ABSORB,
                         max_charge_kw=charge_cap_kw(LIMITS, BATTERY, WEAR))
    return -kw if mode in ("v2h", "v2g") else kw


def execute(year: Year, strategy: Strategy, block: int = BLOCK,
            model: LoadModel | None = None) -> tuple[float, float, float]:
    """Run ``strategy`` hour by hour on the actual year; (energy cost, wear cost, solve s).
    The energy cost counts the battery's change of content over the run at the median import
    price / charge efficiency, so a strategy that ends emptier is not paid for it."""
    soc = start_soc = BATTERY.kwh(60.0)
    model = LoadModel.empty(LOAD_HALF_LIFE_DAYS) if model is None else model
    energy = wear = 0.0
    t_solve = 0.0
    k = 0
    while k < year.n:
        t0 = time.perf_counter()
        ev = strategy(year, k, BATTERY.pct(soc), model)
        t_solve += time.perf_counter() - t0
        for j in range(min(block, year.n - k)):
            i = k + j
            t = (year.start + dt.timedelta(hours=STEP_H * i)).astimezone(year.start.tzinfo)
            if t.weekday() < 5 and t.time() == OUTING.leave and \
                    soc < BATTERY.kwh(OUTING.target_soc_pct) - 0.5:
                SHORT.append((t, BATTERY.pct(soc)))
            if t.weekday() < 5 and t.time() == OUTING.back:
                soc -= min(OUTING.trip_kwh, soc)
            net = year.load[i] - year.pv[i]
            if isinstance(ev, Plan):  # the service's claim, with the surplus it measures
                s = i - SURPLUS_LAG_STEPS
                p = _claim(ev, j, float(year.pv[s] - year.load[s]) if s >= 0 else 0.0)
            else:
                p = float(ev[j])
            p = p if _home(t) else 0.0
            if p < -EPS_KW:  # V2H follows the actual home load, never below the reserve
                p = -min(-p, max(net, 0.0), max(soc - BATTERY.kwh(BATTERY.reserve_pct), 0.0)
                         * BATTERY.discharge_efficiency / STEP_H)
            hi = BATTERY.kwh(BATTERY.max_soc_pct)
            if p > 0:  # the charger's limit and the SoC ceiling, as the controller holds them
                p = min(p, LIMITS.max_charge_kw,
                        max(hi - soc, 0.0) / (BATTERY.charge_efficiency * STEP_H))
            soc += (BATTERY.charge_efficiency * p if p > 0
                    else p / BATTERY.discharge_efficiency) * STEP_H
            grid = net + p
            energy += (year.imp[i] * max(grid, 0.0) - year.exp[i] * max(-grid, 0.0)) * STEP_H
            through = BATTERY.charge_efficiency * p if p > 0 else -p / BATTERY.discharge_efficiency
            wear += (WEAR.cycle_cost_per_kwh * through + WEAR.calendar_cost_per_h(
                BATTERY.pct(soc), WEAR.default_temperature_c, BATTERY.capacity_kwh)) * STEP_H
            model.learn(t, year.load[i])
        k += block
    energy -= (soc - start_soc) * float(np.median(year.imp)) / BATTERY.charge_efficiency
    return energy, wear, t_solve


def _plan_power(plan: Plan) -> np.ndarray:
    return np.array([s.ev_kw for s in plan.steps])


def on_arrival(year: Year, k: int, soc: float, _m: LoadModel) -> np.ndarray:
    return _plan_power(charge_on_arrival(problem_at(year, k, soc, BLOCK)))


def cheapest(year: Year, k: int, soc: float, _m: LoadModel) -> np.ndarray:
    return _plan_power(cheapest_slots(problem_at(year, k, soc, HORIZON)))


SOLVE_TIMES: list[float] = []
SHORT: list[tuple[dt.datetime, float]] = []  # departures more than 0.5 kWh below the target


PV_DAYS = 7  # gateway/planner/forecasts.py PV_HISTORY_DAYS


PV_SCENARIOS = False  # --pv-scenarios: the planner as with `[planner] pv_scenarios = true`


def pv_days(pv: np.ndarray, k: int) -> np.ndarray:
    """The whole days measured in the ``PV_DAYS`` days before step ``k``'s day, one row each
    (the arrays start at midnight); the service's PV scenarios (``PvHistory.scenarios``)."""
    day_start = k - k % 96
    return pv[max(day_start - PV_DAYS * 96, 0):day_start].reshape(-1, 96)


def pv_profile(pv: np.ndarray, k: int) -> np.ndarray:
    """The mean per slot of the whole days measured in the ``PV_DAYS`` days before step
    ``k``'s day; zeros before the first whole day."""
    rows = pv_days(pv, k)
    return rows.mean(axis=0) if len(rows) else np.zeros(96)


def pv_forecast(pv: np.ndarray, k: int, n: int) -> np.ndarray:
    """The service's PV forecast (``PvHistory.forecast``) over ``n`` steps from step ``k``:
    ``pv_profile``, the rest of today corrected by today's PV measured before step ``k``
    (gateway/planner/pv_methods.py ``intraday_ratio``)."""
    base = pv_profile(pv, k)
    now_slot = k % 96
    today = np.full(96, np.nan)
    today[:now_slot] = pv[k - now_slot:k]
    ratio = pv_methods.intraday_ratio(base, today, now_slot)
    return pv_methods.intraday_corrected(pv_methods.laid(base, now_slot, n), now_slot, ratio)


def planner(year: Year, k: int, soc: float, model: LoadModel) -> Plan:
    start = (year.start + dt.timedelta(hours=STEP_H * k)).astimezone(year.start.tzinfo)
    times = [start + dt.timedelta(hours=STEP_H * j) for j in range(HORIZON)]
    load = model.forecast(times)
    pv = pv_forecast(year.pv, k, HORIZON)
    problem = problem_at(year, k, soc, HORIZON, pv=pv, load=load,
                         price_persistence=PRICE_PERSISTENCE)
    if PV_SCENARIOS:  # the measured days as scenarios, one plan for all of them
        plan = solve_scenarios(problem, [np.resize(np.roll(day, -(k % 96)), HORIZON)[:problem.n]
                                         for day in pv_days(year.pv, k)], problem.n)
    else:
        plan = solve(problem)
    SOLVE_TIMES.append(plan.solve_s)
    return plan


def rolling_actual(year: Year, k: int, soc: float, _m: LoadModel) -> Plan:
    """The planner with perfect forecasts (to tell forecast error from the rolling horizon)."""
    return solve(problem_at(year, k, soc, HORIZON))


def foresight(year: Year) -> tuple[float, float, float]:
    """The optimum: one program over the whole year with the actual data, then executed."""
    t0 = time.perf_counter()
    plan = solve(problem_at(year, 0, 60.0, year.n, foresight=True))
    solve_s = time.perf_counter() - t0
    power = _plan_power(plan)

    def replay(_y: Year, k: int, _s: float, _m: LoadModel) -> np.ndarray:
        return power[k:k + BLOCK]

    energy, wear, _ = execute(year, replay)
    return energy, wear, solve_s


def main() -> int:
    global PV_SCENARIOS, ABSORB, SURPLUS_LAG_STEPS, PRICE_PERSISTENCE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--diagnose", action="store_true",
                    help="also run the planner with exact forecasts (forecast error vs horizon)")
    ap.add_argument("--pv-scenarios", action="store_true",
                    help="the planner plans on the last seven days as PV scenarios")
    ap.add_argument("--absorb", action=argparse.BooleanOptionalAction, default=ABSORB,
                    help="carry plans out with claim_for(absorb=True), as the service does")
    ap.add_argument("--lagged-surplus", action="store_true",
                    help="follow the PV surplus of the step before (the benchmark until "
                         "2026-12-04), not the step's own (the service's 5 s re-claims)")
    ap.add_argument("--price-persistence", action=argparse.BooleanOptionalAction,
                    default=PRICE_PERSISTENCE,
                    help="plan past the published prices on the last published day's")
    ap.add_argument("--tariffs", default="tou,dynamic", help="comma-separated: tou, dynamic")
    ap.add_argument("--save", type=Path, help="write the results as JSON (for --plot-from)")
    ap.add_argument("--plot-from", default="",
                    help="comma-separated JSON files of --save: plot them, run nothing")
    args = ap.parse_args()
    PV_SCENARIOS = args.pv_scenarios
    ABSORB = args.absorb
    PRICE_PERSISTENCE = args.price_persistence
    SURPLUS_LAG_STEPS = 1 if args.lagged_surplus else 0
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    if args.plot_from:
        for name in args.plot_from.split(","):
            results.update(json.loads(Path(name).read_text()))
        _plot(results, args.plot)
        return 0
    for tariff in args.tariffs.split(","):
        year = make_year(tariff, args.days)
        res = {"charge on arrival": execute(year, on_arrival),
               "cheapest slots": execute(year, cheapest),
               "planner (forecasts)": execute(year, planner),
               "perfect foresight": foresight(year)}
        if args.diagnose:
            res["planner (exact forecasts)"] = execute(year, rolling_actual)
        res["perfect foresight"] = res.pop("perfect foresight")
        results[tariff] = res
        best = sum(res["perfect foresight"][:2])
        print(f"\n{tariff} ({args.days} days): cost = energy + wear")
        for name, (energy, wear, solve_s) in res.items():
            total = energy + wear
            gap = 100.0 * (total - best) / abs(best)
            print(f"  {name:<22} energy {energy:9.2f}  wear {wear:8.2f}  total {total:9.2f}"
                  f"  gap {gap:6.2f} %  solve {solve_s:7.1f} s")
    print(f"\ndepartures more than 0.5 kWh below the target (all strategies): {len(SHORT)}")
    times = np.array(SOLVE_TIMES) * 1000.0
    print(f"\nplanner solves ({HORIZON // 4} h, 15 min steps, build + HiGHS): n={len(times)}, "
          f"median {np.median(times):.0f} ms, p95 {np.percentile(times, 95):.0f} ms, "
          f"max {times.max():.0f} ms")
    for tariff, res in results.items():
        best = sum(res["perfect foresight"][:2])
        for name in ("charge on arrival", "cheapest slots"):
            saved = sum(res[name][:2]) - sum(res["planner (forecasts)"][:2])
            print(f"{tariff}: the planner saves {saved:.2f} a year against {name}")
        print(f"{tariff}: gap to the optimum "
              f"{100 * (sum(res['planner (forecasts)'][:2]) - best) / abs(best):.2f} %")
    if args.save is not None:
        args.save.write_text(json.dumps(results))
    if args.plot is not None:
        _plot(results, args.plot)
    return 0


def _plot(results: dict[str, dict[str, tuple[float, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(11, 4), squeeze=False)
    for ax, (tariff, res) in zip(axes[0], results.items(), strict=True):
        names = list(res)
        energy = [res[n][0] for n in names]
        wear = [res[n][1] for n in names]
        ax.bar(names, energy, label="energy")
        ax.bar(names, wear, bottom=energy, label="wear")
        ax.set_title({"tou": "PG&E EV2-A (USD)", "dynamic": "BE day-ahead 2023 (EUR)"}[tariff])
        ax.tick_params(axis="x", rotation=30)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
