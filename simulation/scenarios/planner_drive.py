"""The home energy planner driving a scenario run (the scenario's ``[planner]`` table).

At every planner step (``step_s`` scenario seconds, 15 minutes of tariff time) the driver sets
the plant's PV and home load from the scenario's series, plans ``horizon_steps`` ahead from the
EV's SoC as the controller measures it (gateway/planner: the same program the gateway runs) and
claims the plan's current step as ``schedule`` with a lease of two steps, as the gateway's
planner does; the controller's arbitration, interlocks and protections decide as always.

Time is compressed like tests/test_planner_day.py: a step of ``step_s`` seconds stands for 15
minutes, so the plant's energy and the EV's capacity count ``900 / step_s`` times (powers are
real). The report's ``planner`` part prices what the plant really did, step by step: cost of
the imported energy, revenue of the exported, battery wear (the planner's wear model on the
EV's measured throughput and SoC), and the savings against charging on arrival (that baseline
is the planner's model of the same run, the measured run is the plant's; the battery's change
of content is valued at the median import price for both).

The layering table (docs/architecture.md section 3) lets this one module import the planner's
model and optimiser; nothing else in simulation/ imports the gateway.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from controller.supervisor.loop import Supervisor
from gateway.planner.baselines import charge_on_arrival
from gateway.planner.evaluate import claim_for
from gateway.planner.model import Battery, Limits, PlannerInputError, Problem, Trip
from gateway.planner.optimiser import PlannerSolveError, solve
from gateway.planner.soc_memory import SOC_PROBE_W, SocMemory
from gateway.planner.wear import WearModel
from hal.sim.world import SimWorld
from simulation.scenarios.kinds import PLANNER_STEP_H
from simulation.scenarios.planner_spec import PlannerSpec

STEP_S_REAL = 900.0
EPOCH = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # t = 0 when the scenario has no start
SOURCE = "schedule"


class PlannerDriver:
    def __init__(self, spec: PlannerSpec, world: SimWorld, duration_s: float,
                 start: dt.datetime | None) -> None:
        s = spec.settings
        self.spec = spec
        self.scale = STEP_S_REAL / spec.step_s
        self.steps = max(1, int(np.ceil(duration_s / spec.step_s - 1e-9)))
        start = start or EPOCH
        self.start = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
        self.battery = Battery(capacity_kwh=world.battery.params.capacity_kwh * self.scale,
                               reserve_pct=s["reserve_pct"], max_soc_pct=s["max_soc_pct"])
        self.limits = Limits(max_charge_kw=s["max_charge_kw"],
                             max_discharge_kw=s["max_discharge_kw"],
                             v2h_allowed=s["v2h_allowed"], v2g_allowed=s["v2g_allowed"],
                             export_cap_kw=s["max_discharge_kw"] if s["v2g_allowed"] else 0.0)
        self.wear = WearModel()
        self.imp = np.array(spec.series["import_price"])
        self.exp = np.array(spec.series.get("export_price", np.zeros(len(self.imp))))
        self.i = 0
        self.next_t = 0.0
        self.start_soc = world.battery.soc_pct
        self._energy = self._counters(world)
        self.totals = {"cost": 0.0, "revenue": 0.0, "wear_cost": 0.0}
        self.plans: list[dict[str, Any]] = []
        self.soc = SocMemory()  # the SoC the car reported on this plug-in
        self._probing = False  # no SoC yet (a read or a probe charge under way): plan the step
        # as soon as the car's SoC is known

    @staticmethod
    def _counters(world: SimWorld) -> tuple[float, float, float, float]:
        e = world.truth.energy
        return e.grid_import_kwh, e.grid_export_kwh, e.ev_charged_kwh, e.ev_discharged_kwh

    def _series(self, name: str, i: int, n: int, held: float) -> np.ndarray:
        values = self.spec.series.get(name)
        if values is None:
            return np.full(n, held)
        return np.resize(np.array(values[i:]), n) if i < len(values) else np.full(n, held)

    def problem(self, i: int, n: int, soc_pct: float, plugged: bool, world: SimWorld) -> Problem:
        n = max(1, min(n, len(self.imp) - i))
        depart = self.spec.settings.get("depart_step")
        trips = () if depart is None or not 0 < depart - i < n else (
            Trip(depart - i, depart - i + 10**6, self.spec.settings["target_soc_pct"], 0.0),)
        return Problem(self.start + dt.timedelta(hours=PLANNER_STEP_H * i),
                       self.imp[i:i + n], self.exp[i:i + n],
                       self._series("pv_kw", i, n, world.home.pv_w / 1000.0),
                       self._series("load_kw", i, n, world.home.load_w / 1000.0),
                       soc_pct=soc_pct, plugged_now=plugged, trips=trips, battery=self.battery,
                       limits=self.limits, wear=self.wear)

    def before_tick(self, now: float, sup: Supervisor, world: SimWorld) -> None:
        """At each step boundary: account for the step just run, then plan and claim (and,
        after a probe charge, plan the step again as soon as the car reports its SoC)."""
        self.soc.observe(world.ev_plugged, sup.status().ev_soc_pct, now)
        if now + 1e-9 < self.next_t or self.i > self.steps:
            if self._probing and self.soc.soc_pct is not None and 0 < self.i <= self.steps:
                self._probing = False
                self._plan_and_claim(now, sup, world, self.i - 1)
            return
        if self.i > 0:
            self._account(world, self.i - 1)
        if self.i == self.steps:
            self.i += 1
            return
        i = self.i
        for name, attr in (("pv_kw", "pv_w"), ("load_kw", "load_w")):
            values = self.spec.series.get(name)
            if values is not None:
                setattr(world.home, attr, values[i] * 1000.0)
        self._plan_and_claim(now, sup, world, i)
        self.i += 1
        self.next_t += self.spec.step_s

    def _plan_and_claim(self, now: float, sup: Supervisor, world: SimWorld, i: int) -> None:
        if self.soc.waiting(world.ev_plugged, now):
            self._probing = True  # plan this step as soon as the controller's read reports
            self.plans.append({"step": i, "t": now, "mode": "idle", "power_kw": 0.0,
                               "waiting_for_soc": True})
            return
        if self.soc.needs_probe(world.ev_plugged, now):
            self._probing = True
            sup.claim(SOURCE, "charge", SOC_PROBE_W, 2 * self.spec.step_s)
            self.plans.append({"step": i, "t": now, "mode": "charge",
                               "power_kw": SOC_PROBE_W / 1000.0, "probe": True})
            return
        soc = self.soc.soc_pct
        plugged = world.ev_plugged and soc is not None
        try:
            plan = solve(self.problem(i, int(self.spec.settings["horizon_steps"]),
                                      soc if soc is not None else 0.0, plugged, world))
        except (PlannerInputError, PlannerSolveError) as err:
            self.plans.append({"step": i, "error": str(err)})
            sup.release(SOURCE)
        else:
            mode, kw = claim_for(plan, 0, self.limits.max_discharge_kw)
            sup.claim(SOURCE, mode, kw * 1000.0 if mode != "idle" else None,
                      2 * self.spec.step_s)
            self.plans.append({"step": i, "t": now, "mode": mode, "power_kw": kw})

    def finish(self, world: SimWorld) -> None:
        """Account for the step under way when the run ended."""
        if 0 < self.i <= self.steps:
            self._account(world, self.i - 1)
            self.i = self.steps + 1

    def _account(self, world: SimWorld, i: int) -> None:
        now = self._counters(world)
        imp, exp, charged, discharged = ((b - a) * self.scale
                                         for a, b in zip(self._energy, now, strict=True))
        self._energy = now
        self.totals["cost"] += imp * float(self.imp[i])
        self.totals["revenue"] += exp * float(self.exp[i])
        usable = self.battery.capacity_kwh
        self.totals["wear_cost"] += (
            self.wear.cycle_cost_per_kwh * (charged + discharged)
            + self.wear.calendar_cost_per_h(world.battery.soc_pct,
                                            self.wear.default_temperature_c, usable)
            * PLANNER_STEP_H)

    def report(self, world: SimWorld) -> dict[str, Any]:
        """Cost, revenue, wear and savings against charging on arrival (see the docstring)."""
        value = float(np.median(self.imp[:self.steps])) / self.battery.charge_efficiency
        end_soc = world.battery.soc_pct
        left = (self.battery.kwh(end_soc) - self.battery.kwh(self.start_soc)) * value
        measured = self.totals["cost"] - self.totals["revenue"] + self.totals["wear_cost"] - left
        base = charge_on_arrival(self.problem(0, self.steps, self.start_soc, True, world))
        base_left = (self.battery.kwh(base.steps[-1].soc_pct)
                     - self.battery.kwh(self.start_soc)) * value
        baseline = base.energy_cost + base.wear_cost - base_left
        return {"steps": self.steps, "scale": self.scale, **self.totals,
                "net_cost": measured, "charge_on_arrival_net_cost": baseline,
                "savings": baseline - measured, "end_soc_pct": end_soc,
                "claims": self.plans}
