"""What a power trajectory costs: the plan's steps and totals, for the optimiser and baselines.

The optimiser's answer and the baselines' rules (charge on arrival, cheapest slots) are all
trajectories of EV power; one function prices them with the same bill and the same wear model, so
comparisons are like for like.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gateway.planner.model import Array, Plan, Problem, Step

EPS_KW = 1e-3  # below this a power is zero (solver tolerance)


def soc_path(problem: Problem, ev_kw: Array) -> tuple[Array, Array]:
    """The EV power actually carried out and the SoC (kWh, end of each step) it leads to, trips
    included (a trip takes its energy at the start of the return step, never more than is in the
    car). Charging stops at the SoC ceiling and discharging at empty, as the car itself would."""
    bat, dt = problem.battery, problem.step_h
    hi = max(bat.kwh(bat.max_soc_pct), bat.kwh(problem.soc_pct))
    backs = {t.back: t.energy_kwh for t in problem.trips}
    soc = bat.kwh(problem.soc_pct)
    power = np.zeros(problem.n)
    out = np.zeros(problem.n)
    for i in range(problem.n):
        if i in backs:
            soc -= min(backs[i], soc)
        p = float(ev_kw[i])
        if p > 0:
            p = min(p, max(hi - soc, 0.0) / (bat.charge_efficiency * dt))
            soc += bat.charge_efficiency * p * dt
        else:
            p = max(p, -soc * bat.discharge_efficiency / dt)
            soc += p / bat.discharge_efficiency * dt
        power[i], out[i] = p, soc
    return power, out


def mode_of(ev_kw: float, grid_kw: float, surplus_kw: float, plugged: bool) -> str:
    """The controller mode that carries out one step: v2g when the EV pushes into the grid."""
    if not plugged or abs(ev_kw) <= EPS_KW:
        return "idle"
    if ev_kw > 0:
        return "charge"
    return "v2g" if grid_kw < -surplus_kw - EPS_KW else "v2h"


def evaluate(problem: Problem, ev_kw: Array, notes: Sequence[str] = (),
             solve_s: float = 0.0) -> Plan:
    """The plan that asks for EV power ``ev_kw`` (+ charge, AC kW), priced step by step."""
    bat, wear, dt = problem.battery, problem.wear, problem.step_h
    plugged = problem.plugged()
    ev, soc_kwh = soc_path(problem, np.where(np.abs(ev_kw) <= EPS_KW, 0.0, ev_kw) * plugged)
    grid = problem.load_kw - problem.pv_kw + ev
    surplus = np.maximum(problem.pv_kw - problem.load_kw, 0.0)
    temps = (problem.temperature_c if problem.temperature_c is not None
             else np.full(problem.n, wear.default_temperature_c))
    cyc = wear.cycle_cost_per_kwh
    steps = []
    energy_total = wear_total = 0.0
    for i in range(problem.n):
        g, p = float(grid[i]), float(ev[i])
        price_in, price_out = float(problem.import_price[i]), float(problem.export_price[i])
        cost = (price_in * max(g, 0.0) - price_out * max(-g, 0.0)) * dt
        soc_pct = bat.pct(float(soc_kwh[i]))
        through = bat.charge_efficiency * p if p > 0 else -p / bat.discharge_efficiency
        wear_cost = (cyc * through + wear.calendar_cost_per_h(
            soc_pct, float(temps[i]), bat.capacity_kwh)) * dt
        energy_total += cost
        wear_total += wear_cost
        steps.append(Step(problem.time(i), mode_of(p, g, float(surplus[i]), bool(plugged[i])),
                          p, soc_pct, g, price_in, price_out, cost, wear_cost, bool(plugged[i])))
    return Plan(tuple(steps), energy_total, wear_total, solve_s, tuple(notes))
