"""Power bounds and SoC floors: the hard limits of a plan, cut to what is physically possible.

The backup reserve and a departure target are hard constraints, but a car that arrives nearly
empty, or a target too high for the time left, would make the program infeasible. Here both are
cut to the most the charger can deliver at full power, with a note that says why, so the solver
always has a plan and that plan is "charge as fast as allowed" exactly when the wish cannot be
met. The floors are computed by one forward pass along the fastest-charge trajectory. Where a
floor is still below the reserve (the car is refilling it), discharging is forbidden outright: the
SoC is then below the reserve, or might be.

A future trip's arrival SoC is not known before solving; its floor ramp starts from the lowest
arrival the plan allows (departure floor minus the trip). A trip that may need more than that
floor brings the car back empty in the program (``arrives_empty``: whatever it left with), so the
program never counts energy the trip may have used. The car's real arrival is planned again when
it plugs in, from its measured SoC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.planner.model import Array, Battery, Limits, Problem
from gateway.planner.wear import WearModel

DUST = 1e-6  # kW or money per kWh: below this, a number is zero to the solver (HiGHS' tolerances
# are 1e-7; smaller inputs made it report "empty" or "infeasible" models)
POWER_DUST_KW = 1e-6  # a grid limit below a milliwatt is no power (HiGHS' tolerances are 1e-7)
EV_DUST_KW = 1e-3  # an EV charge or discharge limit below a watt is no power: the plan is
# priced with EV powers below a watt as zero (evaluate.EPS_KW), so a smaller limit would be a
# charge nobody sees (the home's own balance keeps POWER_DUST_KW: PV must go somewhere)


@dataclass(frozen=True, slots=True)
class PowerBounds:
    """Upper bounds per step, kW: EV charge, EV discharge, grid import, grid export."""

    c_max: Array
    d_max: Array
    g_max: Array
    x_max: Array


@dataclass(frozen=True, slots=True)
class Floors:
    lo_kwh: Array  # SoC floor at the end of each step
    hi_kwh: Array  # SoC ceiling at the end of each step
    arrival_drop_kwh: Array  # trip energy taken off at the start of the return step
    days: tuple[tuple[int, ...], ...]  # step indices of each local calendar day
    notes: tuple[str, ...]
    below_reserve: Array  # 1.0 where the floor is still below the reserve: no discharge there
    arrives_empty: Array  # 1.0 at a return step whose trip may need more than the car leaves with


def charge_cap_kw(limits: Limits, battery: Battery, wear: WearModel) -> float:
    """The most the EV may charge in any step: the charge limit and the C-rate limit."""
    return min(limits.max_charge_kw, wear.max_c_rate * battery.capacity_kwh)


def power_bounds(problem: Problem) -> PowerBounds:
    """Each step's limits: plugged in or not, power and C-rate limits, V2H/V2G permission (the
    EV may cover the home's net load; only V2G may push into the grid, up to the export cap),
    the import cap (the home's own load is not the planner's to cut: charging uses what is left)."""
    lim, bat, wear = problem.limits, problem.battery, problem.wear
    plugged = problem.plugged().astype(np.float64)
    c_rate_kw = wear.max_c_rate * bat.capacity_kwh
    net = problem.load_kw - problem.pv_kw
    v2g_kw = lim.export_cap_kw if lim.v2g_allowed else 0.0
    can_discharge = lim.v2h_allowed or lim.v2g_allowed
    room = np.maximum(net, 0.0) + v2g_kw if can_discharge else np.zeros(problem.n)
    d_max = plugged * np.minimum(min(lim.max_discharge_kw, c_rate_kw), room)
    import_cap = np.full(problem.n, lim.max_import_kw)
    if problem.import_cap_kw is not None:
        import_cap = np.minimum(import_cap, problem.import_cap_kw)
    g_max = np.maximum(import_cap, net)
    c_max = plugged * charge_cap_kw(lim, bat, wear)
    c_max = np.minimum(c_max, np.maximum(g_max - net, 0.0))
    x_max = np.maximum(-net, 0.0) + v2g_kw
    c_max, d_max = (np.where(np.abs(a) < EV_DUST_KW, 0.0, a) for a in (c_max, d_max))
    return PowerBounds(c_max, d_max, *(np.where(np.abs(a) < POWER_DUST_KW, 0.0, a)
                                       for a in (g_max, x_max)))


def _clock(problem: Problem, i: int) -> str:
    return problem.time(i).strftime("%a %H:%M")


def floors(problem: Problem, bounds: PowerBounds) -> Floors:
    """The SoC floors and ceilings, trip drops, calendar days and notes for ``problem``."""
    n, dt, bat = problem.n, problem.step_h, problem.battery
    soc0 = bat.kwh(problem.soc_pct)
    hi = max(bat.kwh(bat.max_soc_pct), soc0)
    reserve = bat.kwh(bat.reserve_pct)
    plugged = problem.plugged()
    lo = np.zeros(n)
    drop = np.zeros(n)
    empty = np.zeros(n)
    notes: list[str] = []
    departs = {t.depart: t for t in problem.trips}
    backs = {t.back: t for t in problem.trips if t.back < n}
    gain = bat.charge_efficiency * bounds.c_max * dt
    reach = soc0  # the most the SoC can be at the end of the previous step
    leaving_with = soc0
    if problem.plugged_now and soc0 < reserve - 1e-9:
        notes.append(f"SoC {problem.soc_pct:.0f} % is below the {bat.reserve_pct:.0f} % backup "
                     "reserve: charging as fast as allowed until it is reached")
    for i in range(n):
        if i in departs:
            trip = departs[i]
            want = bat.kwh(trip.target_pct)
            if i > 0:
                if want > hi + 1e-9 and reach >= hi - 1e-9:
                    notes.append(
                        f"departure {_clock(problem, i)}: target {trip.target_pct:.0f} % is above "
                        f"the SoC ceiling {bat.pct(hi):.0f} %: charging to the ceiling")
                elif want > reach + 1e-9:
                    notes.append(
                        f"departure {_clock(problem, i)}: target {trip.target_pct:.0f} % cannot "
                        f"be reached in time; at most {bat.pct(reach):.0f} %: charging as fast "
                        "as allowed")
                lo[i - 1] = max(lo[i - 1], min(want, reach))
                leaving_with = min(want, reach)
            else:
                leaving_with = soc0
            if trip.energy_kwh > leaving_with + 1e-9 and trip.back < n:
                notes.append(f"trip from {_clock(problem, i)}: needs {trip.energy_kwh:.1f} kWh, "
                             f"more than the car leaves with; assuming it comes back empty")
                empty[trip.back] = 1.0
        if i in backs:
            drop[i] = min(backs[i].energy_kwh, leaving_with)
            reach = leaving_with - drop[i]
        if plugged[i]:
            reach = min(hi, reach + float(gain[i]))
            lo[i] = max(lo[i], min(reserve, reach))
        lo[i] = min(lo[i], hi)
    day_of: dict[object, list[int]] = {}
    for i in range(n):
        day_of.setdefault(problem.time(i).date(), []).append(i)
    days = tuple(tuple(v) for v in day_of.values())
    below = (lo < reserve - 1e-9).astype(np.float64)
    return Floors(lo, np.full(n, hi), drop, days, tuple(notes), below, empty)
