"""What a power trajectory costs: the plan's steps and totals, for the optimiser and baselines.

The optimiser's answer and the baselines' rules (charge on arrival, cheapest slots) are all
trajectories of EV power; one function prices them with the same bill and the same wear model, so
comparisons are like for like.
"""

from __future__ import annotations

import math
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


def mode_of(ev_kw: float, grid_kw: float, surplus_kw: float, plugged: bool,
            v2h_allowed: bool = True) -> str:
    """The controller mode that carries out one step: v2g when the EV pushes into the grid, or
    when it covers the home but the owner allows V2G only (V2G's export feeds the home first;
    a V2H claim would be one the owner never allowed)."""
    if not plugged or abs(ev_kw) <= EPS_KW:
        return "idle"
    if ev_kw > 0:
        return "charge"
    return "v2g" if grid_kw < -surplus_kw - EPS_KW or not v2h_allowed else "v2h"


COVERED_KW = 0.05  # a V2H step whose planned grid import is below this carries the whole home


def absorbable_kw(plan: Plan, i: int, surplus_kw: float) -> float:
    """PV surplus measured now, beyond step ``i``'s planned charge, that is better in the car
    than exported: as much as the plan itself buys from the grid for the car later, before the
    car next leaves, at an import price above this step's export price (the same energy, bought
    later at a higher price). Nothing when the plan buys nothing dearer later."""
    step = plan.steps[i]
    if not step.plugged or step.mode not in ("idle", "charge") or len(plan.steps) < 2:
        return 0.0
    extra = surplus_kw - max(step.ev_kw, 0.0)
    if not math.isfinite(extra) or extra <= EPS_KW:
        return 0.0
    step_h = (plan.steps[1].t - plan.steps[0].t).total_seconds() / 3600.0
    bought_kwh = 0.0
    for s in plan.steps[i + 1:]:
        if not s.plugged:
            break
        if s.mode == "charge" and s.grid_kw > COVERED_KW and s.import_price > step.export_price:
            bought_kwh += min(s.ev_kw, s.grid_kw) * step_h
    return min(extra, bought_kwh / step_h)


def claim_for(plan: Plan, i: int, max_discharge_kw: float,
              surplus_kw: float | None = None, absorb: bool = False,
              max_charge_kw: float = math.inf) -> tuple[str, float]:
    """The mode and power limit (kW, a magnitude) to claim for step ``i`` of ``plan``.

    Forecasts are wrong in both directions, and the controller's V2H follows the *actual* home
    load up to the claimed ceiling, so the plan is carried out by value, not by the letter:

    - a V2H step that carries the whole (forecast) home claims the full discharge limit, so a
      load above its forecast is still carried; one that rations the battery (covers only part
      of the home) claims its planned power;
    - an idle plugged-in step whose import price is at least the lowest price at which the plan
      discharges for the home later in the horizon claims V2H too: the plan values the energy
      in the battery below that price, so carrying a load the forecast missed (a cloud over the
      PV, a kettle) is worth it. The next plan corrects any overshoot; the reserve and the
      departure floors stay in every plan. Only discharges planned before the car next leaves
      count, so energy kept for a departure is never spent this way.
    - a charge step the plan fills from its own PV surplus (no planned import) claims at most
      the surplus measured now (``surplus_kw``, when known): a PV forecast that is too bright
      must not turn into charging from the grid at whatever the price is then;
    - other charge steps and V2G steps claim their planned power;
    - with ``absorb``, a PV surplus measured now above the step's charge goes into the car
      instead of being exported, as far as the plan buys the same energy from the grid later
      at a higher price (``absorbable_kw``), never above ``max_charge_kw`` (the charge limit:
      the energy bought later may be more than one step can take): the plan's step is an
      intent, the surplus decides.

    A surplus that is not a finite number is not known (as ``None``).
    """
    step = plan.steps[i]
    if surplus_kw is not None and not math.isfinite(surplus_kw):
        surplus_kw = None
    extra = absorbable_kw(plan, i, surplus_kw) if absorb and surplus_kw is not None else 0.0
    if step.mode == "charge" and step.grid_kw <= COVERED_KW and surplus_kw is not None:
        kw = min(min(step.ev_kw, max(surplus_kw, 0.0)) + extra, max_charge_kw)
        return ("charge", kw) if kw > EPS_KW else ("idle", 0.0)
    if extra > EPS_KW:
        return "charge", min(max(step.ev_kw, 0.0) + extra, max_charge_kw)
    if step.mode == "v2h":
        return "v2h", (max_discharge_kw if step.grid_kw <= COVERED_KW else abs(step.ev_kw))
    if step.mode == "idle" and step.plugged and max_discharge_kw > 0:
        later = []
        for s in plan.steps[i + 1:]:
            if not s.plugged:
                break  # only energy the plan itself spends on the home before the car leaves
            if s.mode == "v2h":
                later.append(s.import_price)
        if later and step.import_price >= min(later):
            return "v2h", max_discharge_kw
    return step.mode, abs(step.ev_kw)


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
        steps.append(Step(problem.time(i), mode_of(p, g, float(surplus[i]), bool(plugged[i]),
                                                    problem.limits.v2h_allowed),
                          p, soc_pct, g, price_in, price_out, cost, wear_cost, bool(plugged[i])))
    return Plan(tuple(steps), energy_total, wear_total, solve_s, tuple(notes))
