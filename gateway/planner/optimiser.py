"""The optimiser: a problem in, the cheapest plan out (a linear program solved by HiGHS).

Per step ``i`` the columns are: EV charge ``c`` and discharge ``d`` (AC kW), the net grid power
``g`` (+ import, - export, kW) with its bill ``z`` (money per hour, the epigraph of
``max(p_import g, p_export g)``), the SoC ``s`` at the end of the step (kWh) and the calendar-wear
epigraph ``w`` (money per hour). The rows: the home's power balance, the bill lines, the SoC
dynamics with one-way efficiencies and trips, the calendar-wear lines, the convex hull of "charge
or discharge" (``c / c_max + d / d_max <= 1``) and one discharge budget per calendar day. Hard
limits are column bounds (``gateway/planner/floors.py``: power, C-rate, no export by the EV
without V2G, the export cap, the reserve and departure floors). The objective is the bill, plus
cycle and calendar wear, minus the value of what is left in the battery at the end
(``terminal_value``).

No binaries: a mixed-integer program that forbids charging and discharging at once took HiGHS
seconds to minutes when prices go negative, far beyond the budget on a Raspberry Pi. Instead the
bill is exact for net grid power (an export price above the import price is planned as the import
price: convexity), and the plan carried out is the *net* EV power; its SoC is recomputed
(``gateway/planner/evaluate.py``). Charging and discharging at once only pays when energy is
worth less than nothing (negative prices); the net power then leaves more in the battery than the
program counted, never less, so every floor still holds; the SoC ceiling is enforced by the
recomputation, which cuts charging there.

Infeasible wishes are cut before solving, with a note saying why: a departure target the car
cannot reach in time becomes "as full as possible by then" (charge at full power), and a reserve
above the current SoC becomes a floor that rises as fast as the charger can fill it.

``solve_scenarios`` is the risk-aware plan: the same program once per PV scenario (the forecast
and the measured days), the EV's columns (charge, discharge, SoC, calendar wear) shared by all of
them, each with its own grid power and bill, the objective their mean: one plan of least
expected cost, which prices the chance that tomorrow's sun does not come.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import highspy
import numpy as np
import numpy.typing as npt

from gateway.planner.evaluate import evaluate
from gateway.planner.floors import DUST, floors, power_bounds
from gateway.planner.model import Array, Plan, Problem, series


class PlannerSolveError(RuntimeError):
    """HiGHS did not return an optimal plan (a bug: the bounds are built to be feasible)."""


def terminal_value(problem: Problem) -> float:
    """Money per kWh left in the battery at the horizon's end: what refilling it would cost at
    the cheaper prices of this horizon (the 10th percentile of import prices, never < 0)."""
    p = float(np.quantile(problem.import_price, 0.1))
    return max(p, 0.0) / problem.battery.charge_efficiency


class _Columns:
    """Column index arithmetic: block ``k`` of scenario ``b`` holds one column per step. In
    the first ``shared`` steps the EV's charge and discharge, and so its SoC and calendar wear,
    are scenario 0's columns in every scenario (non-anticipativity: what is carried out cannot
    depend on which scenario comes true); only the grid power and the bill are per scenario."""

    C, D, G, Z, S, W = range(6)
    SHARED = (C, D, S, W)

    def __init__(self, n: int, scenarios: int = 1, shared: int = 0) -> None:
        self.n = n
        self.shared = shared
        self.count = 6 * n * scenarios

    def __call__(self, block: int, i: int, b: int = 0) -> int:
        if block in self.SHARED and i < self.shared:
            b = 0
        return (6 * b + block) * self.n + i

    def indices(self, block: int, b: int) -> npt.NDArray[np.int64]:
        return np.array([self(block, i, b) for i in range(self.n)], dtype=np.int64)


class _Rows:
    """Sparse rows as (row, column, value) triplets with their bounds."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, float]] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.lo)
        self.entries.extend((r, c, v) for c, v in entries)
        self.lo.append(lo)
        self.hi.append(hi)


def _dust_to_zero(a: Array) -> Array:
    """Magnitudes below ``DUST`` set to zero: HiGHS drops such coefficients, and a denormal
    bound or right-hand side made it report an "empty" model instead of a plan."""
    return np.where(np.abs(a) < DUST, 0.0, a)


def _without_dust(problem: Problem) -> Problem:
    """``problem`` with its series cleaned of dust (the plan is priced on the same numbers)."""
    return dataclasses.replace(problem, import_price=_dust_to_zero(problem.import_price),
                               export_price=_dust_to_zero(problem.export_price),
                               pv_kw=_dust_to_zero(problem.pv_kw),
                               load_kw=_dust_to_zero(problem.load_kw))


def solve(problem: Problem) -> Plan:
    """The cheapest plan for ``problem`` (raises PlannerSolveError only on a solver failure)."""
    return _solve([problem], 0)


def solve_scenarios(problem: Problem, pv_scenarios: Sequence[npt.ArrayLike],
                    shared_steps: int | None = None) -> Plan:
    """The plan of least *expected* cost over PV scenarios (a sample average approximation).

    The scenarios are ``problem`` itself (its PV forecast) and one copy per series of
    ``pv_scenarios`` (the last days' measured profiles), all weighted alike. The EV's power in
    the first ``shared_steps`` steps (None: the whole horizon) is one decision for all of them:
    nobody knows which comes true; only the grid power and the bill differ per scenario. After
    that each scenario has its own recourse (measured in bench/planner_gap.py: an hour shared
    was worse than the whole horizon; the next plan is the real recourse). Every scenario keeps
    the reserve and departure floors, so the plan holds whichever comes true. The plan returned
    is the first scenario's (``problem``'s forecast). Without scenarios: ``solve(problem)``.
    """
    pvs = [series(f"pv scenario {k}", s, problem.n, 0.0) for k, s in enumerate(pv_scenarios)]
    blocks = [problem] + [dataclasses.replace(problem, pv_kw=pv) for pv in pvs]
    if not pvs:
        return _solve(blocks, 0)
    return _solve(blocks, problem.n if shared_steps is None else max(int(shared_steps), 1))


def _solve(blocks: list[Problem], shared: int) -> Plan:
    """Build and solve the program over the scenario ``blocks`` (alike but for their PV)."""
    t0 = time.perf_counter()
    blocks = [_without_dust(b) for b in blocks]
    problem = blocks[0]
    n, dt, m = problem.n, problem.step_h, len(blocks)
    bat, wear = problem.battery, problem.wear
    col = _Columns(n, m, min(shared, n))
    bounds = [power_bounds(b) for b in blocks]
    # the shared steps charge at most what every scenario allows; each scenario's floors (the
    # fastest charge from there on) start from that, so each has a plan whatever comes true
    c_shared = np.min([b.c_max[:col.shared] for b in bounds], axis=0)
    bounds = [dataclasses.replace(b, c_max=np.concatenate([c_shared, b.c_max[col.shared:]]))
              for b in bounds]
    fls = [floors(blk, bb) for blk, bb in zip(blocks, bounds, strict=True)]
    fl = fls[0]
    inf = highspy.kHighsInf
    weight = 1.0 / m

    cost = np.zeros(col.count)
    lower = np.zeros(col.count)
    upper = np.zeros(col.count)
    cyc = wear.cycle_cost_per_kwh
    tv = terminal_value(problem)
    for b, (bb, fb) in enumerate(zip(bounds, fls, strict=True)):
        for block, lo, hi, unit in (
                (col.C, 0.0, bb.c_max, cyc * bat.charge_efficiency * dt),
                (col.D, 0.0, bb.d_max * (1.0 - fb.below_reserve),
                 cyc / bat.discharge_efficiency * dt),
                (col.G, -bb.x_max, bb.g_max, 0.0), (col.Z, -inf, inf, dt),
                (col.S, fb.lo_kwh, fb.hi_kwh, 0.0), (col.W, -inf, inf, dt)):
            idx = col.indices(block, b)
            cost[idx] += weight * unit
            lo_k, hi_k = np.broadcast_to(lo, (n,)), np.broadcast_to(hi, (n,))
            k = col.shared if b and block in col.SHARED else 0  # shared: the tightest bound
            lower[idx[k:]], upper[idx[k:]] = lo_k[k:], hi_k[k:]
            lower[idx[:k]] = np.maximum(lower[idx[:k]], lo_k[:k])
            upper[idx[:k]] = np.minimum(upper[idx[:k]], hi_k[:k])
        cost[col(col.S, n - 1, b)] -= weight * tv

    rows = _Rows()
    export_price = np.minimum(problem.export_price, problem.import_price)  # convex bill
    soc0 = bat.kwh(problem.soc_pct)
    temps = (problem.temperature_c if problem.temperature_c is not None
             else np.full(n, wear.default_temperature_c))
    lines = [wear.calendar_lines(float(temps[i]), bat.capacity_kwh) for i in range(n)]
    for b, (blk, fb) in enumerate(zip(blocks, fls, strict=True)):
        net = blk.load_kw - blk.pv_kw
        for i in range(n):
            c, d, g, z, s, w = (col(k, i, b) for k in range(6))
            rows.add([(g, 1.0), (c, -1.0), (d, 1.0)], float(net[i]), float(net[i]))
            rows.add([(z, 1.0), (g, -float(problem.import_price[i]))], 0.0, inf)
            rows.add([(z, 1.0), (g, -float(export_price[i]))], 0.0, inf)
            # s_i - s_{i-1} - eta_c dt c_i + dt/eta_d d_i = -trip energy (+ soc0 at i = 0);
            # back empty from a trip that may need more than the car leaves with: no s_{i-1}
            rhs = -float(fb.arrival_drop_kwh[i]) + (soc0 if i == 0 else 0.0)
            entries = [(s, 1.0), (c, -bat.charge_efficiency * dt),
                       (d, dt / bat.discharge_efficiency)]
            if fb.arrives_empty[i]:
                rhs = 0.0
            elif i > 0:
                entries.append((col(col.S, i - 1, b), -1.0))
            if b and i < col.shared:
                continue  # the SoC, wear and hull rows of shared columns: scenario 0's
            rows.add(entries, rhs, rhs)
            for a, slope in lines[i]:
                rows.add([(w, 1.0), (s, -slope)], a, inf)
            c_max, d_max = float(upper[c]), float(upper[d])
            if c_max > 0 and d_max > 0:
                rows.add([(c, 1.0 / c_max), (d, 1.0 / d_max)], -inf, 1.0)
        for day in fl.days:
            if b == 0 or day[-1] >= col.shared:
                rows.add([(col(col.D, i, b), dt) for i in day], -inf, wear.daily_discharge_kwh)

    x = _run(col, cost, lower, upper, rows)
    ev_kw = x[col.indices(col.C, 0)] - x[col.indices(col.D, 0)]
    return evaluate(problem, ev_kw, fl.notes, time.perf_counter() - t0)


def _run(col: _Columns, cost: Array, lower: Array, upper: Array, rows: _Rows) -> Array:
    """Solve with HiGHS (one thread, fixed seed: the same inputs give the same plan)."""
    lp = highspy.HighsLp()
    lp.num_col_ = col.count
    lp.num_row_ = len(rows.lo)
    lp.col_cost_ = _dust_to_zero(cost)
    lp.col_lower_ = lower  # the bounds and right-hand sides come from cleaned inputs; cleaning
    lp.col_upper_ = upper  # them again here made the SoC rows disagree with the floors
    lp.row_lower_ = np.asarray(rows.lo)
    lp.row_upper_ = np.asarray(rows.hi)
    k = len(rows.entries)
    r = np.fromiter((e[0] for e in rows.entries), dtype=np.int32, count=k)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.searchsorted(r, np.arange(lp.num_row_ + 1)).astype(np.int32)
    lp.a_matrix_.index_ = np.fromiter((e[1] for e in rows.entries), dtype=np.int32, count=k)
    lp.a_matrix_.value_ = np.fromiter((e[2] for e in rows.entries), dtype=np.float64, count=k)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise PlannerSolveError(f"HiGHS: {h.modelStatusToString(status)} (a planner bug: "
                                "report the inputs)")
    return np.asarray(h.getSolution().col_value, dtype=np.float64)
