"""What the household would do without the planner, priced with the same bill and wear model.

- **Charge on arrival**: full power whenever plugged in until the owner's SoC ceiling; no
  discharge (what a plain charger does).
- **Cheapest slots**: for each departure, the cheapest plugged-in intervals before it that
  together reach its target, at full power; no discharge (what evcc's price mode does without
  V2H).
"""

from __future__ import annotations

import numpy as np

from gateway.planner.evaluate import evaluate
from gateway.planner.floors import power_bounds
from gateway.planner.model import Plan, Problem


def charge_on_arrival(problem: Problem) -> Plan:
    """Full power while plugged in (the SoC ceiling then stops it, as the car would)."""
    return evaluate(problem, power_bounds(problem).c_max.copy())


def cheapest_slots(problem: Problem) -> Plan:
    """Per departure, the cheapest intervals before it that reach the target (then nothing);
    below the reserve, it charges at once, as the planner does."""
    bat, dt = problem.battery, problem.step_h
    c_max = power_bounds(problem).c_max
    ev = np.zeros(problem.n)
    soc = bat.kwh(problem.soc_pct)
    reserve = bat.kwh(bat.reserve_pct)
    i = 0
    while i < problem.n and soc < reserve and c_max[i] > 0:  # refill the reserve first
        ev[i] = c_max[i]
        soc += bat.charge_efficiency * c_max[i] * dt
        i += 1
    first = i
    for trip in problem.trips:
        need = bat.kwh(trip.target_pct) - soc
        window = [k for k in range(first, trip.depart) if c_max[k] > 0 and ev[k] == 0]
        for k in sorted(window, key=lambda k: (problem.import_price[k], k)):
            if need <= 0:
                break
            p = min(float(c_max[k]), need / (bat.charge_efficiency * dt))
            ev[k] = p
            need -= bat.charge_efficiency * p * dt
        soc = bat.kwh(trip.target_pct) - min(trip.energy_kwh, bat.kwh(trip.target_pct))
        first = max(first, trip.back)
    return evaluate(problem, ev)
