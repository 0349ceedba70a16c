"""The planner in the gateway: re-plans every 15 minutes and at once on events, and carries out
the plan only as leased ``schedule`` claims (ARCHITECTURE.md section 6).

The owner (a ``user`` claim is below ``schedule`` by design: automation the owner set up keeps
working), a technician, the grid operator and every protection outrank it: the controller
decides, the planner only asks. If the gateway dies its lease runs out and the controller falls
back to the owner's standing wish. A plan that cannot be made (bad input, solver failure) is
logged and the claim released, never guessed.

Events that re-plan at once: the car plugged in or unplugged, a change of the grid's state
(outage and return), a new fault, a grid operator's power limit, a changed price file, and any
controller event of those kinds. The service wakes every ``poll_s`` seconds of its own clock
(injected: the controller's clock in simulations, the wall clock in production) and claims again
whenever the plan's step (mode, power) changes.

Home Assistant's manual mode claims as ``schedule`` too: while the owner's manual choice stands
the planner plans but claims and releases nothing (``gateway/planner/manual.py``); its status
and the latest plan's summary go to the shared preferences, which MQTT and the status page
publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.api import ClaimReply, ControllerApi, ControllerStatus, Mode, Requester
from gateway.planner.config import PlannerConfig
from gateway.planner.evaluate import claim_for
from gateway.planner.floors import charge_cap_kw
from gateway.planner.forecasts import LOAD_HALF_LIFE_DAYS, LoadModel, PvHistory
from gateway.planner.inputs import build_problem, pv_scenarios
from gateway.planner.manual import ManualHold
from gateway.planner.model import Plan, PlannerInputError, Problem, Step
from gateway.planner.optimiser import PlannerSolveError, solve_scenarios
from gateway.planner.report import savings
from gateway.planner.soc_memory import SOC_PROBE_W, SocMemory
from gateway.planner.surplus_dwell import SurplusDwell
from gateway.preferences import Preferences

log = logging.getLogger("v2x.gateway.planner")

REQUESTER: Requester = "schedule"
POLL_S = 5.0
URGENT_STATES = ("backup", "fault", "estop", "ev_connected")  # into or out of these: re-plan


def urgent_event(kind: str, data: dict[str, object]) -> str | None:
    """Why a controller event calls for a new plan at once (None: it does not). Our own claims
    and the ordinary start/stop sequence do not; a backup, a fault, a car connecting and
    another requester's claim, release or expiry do."""
    if kind == "transition":
        states = (str(data.get("source", "")), str(data.get("dest", "")))
        if any(s.startswith(URGENT_STATES) for s in states):
            return f"transition {states[0]} -> {states[1]}"
    if kind == "request" and data.get("requester") not in (REQUESTER, None):
        return f"{data.get('requester')} {data.get('kind')}"
    return None


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """The latest plan as the status page and MQTT publish it."""

    made_at: dt.datetime
    reason: str
    plan: Plan
    savings: float

    def summary(self) -> dict[str, object]:
        """What MQTT and the status page show of it (money in the tariff's currency)."""
        first = self.plan.steps[0]
        return {"made_at": self.made_at.isoformat(timespec="seconds"), "reason": self.reason,
                "mode": first.mode, "power_kw": round(first.ev_kw, 2),
                "energy_cost": round(self.plan.energy_cost, 2),
                "wear_cost": round(self.plan.wear_cost, 2), "savings": round(self.savings, 2),
                "end_soc_pct": round(self.plan.steps[-1].soc_pct, 1),
                "notes": list(self.plan.notes)}


class PlannerService:
    """The planner as a gateway service (``gateway/host.py``'s Service protocol)."""

    name = "planner"

    def __init__(self, cfg: PlannerConfig, *, clock: Callable[[], dt.datetime] = _wall_clock,
                 poll_s: float = POLL_S,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 prefs: Preferences | None = None, manual_hold_s: float | None = None) -> None:
        self.cfg = cfg
        self.prefs = prefs if prefs is not None else Preferences()
        self.hold = ManualHold(manual_hold_s)
        self.suspended = False
        self._clock = clock
        self._poll_s = poll_s
        self._sleep = sleep
        self.load_model = LoadModel.empty(LOAD_HALF_LIFE_DAYS)
        self.pv_history = PvHistory()
        self.latest: PlanRecord | None = None
        self.history: list[PlanRecord] = []  # every plan made (bounded by the caller's run)
        self.claims: list[tuple[dt.datetime, str, float, ClaimReply]] = []
        self._problem: Problem | None = None
        self._held: tuple[str, float] | None = None
        self._next_plan: dt.datetime | None = None
        self._urgent: str | None = "start"
        self._seen: tuple[object, ...] | None = None
        self.soc = SocMemory()  # the SoC reported on this plug-in (gateway/planner/soc_memory.py)
        self.dwell = SurplusDwell()  # no charger cycling with the clouds (surplus_dwell.py)
        self._last_sample: dt.datetime | None = None

    async def run(self, api: ControllerApi) -> None:
        watcher = asyncio.get_running_loop().create_task(self._watch_events(api))
        try:
            while True:
                await self.tick(api)
                await self._sleep(self._poll_s)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _watch_events(self, api: ControllerApi) -> None:
        async for event in api.events():
            why = urgent_event(event.kind, event.data)
            if why is not None:
                self._urgent = why

    def _triggers(self, status: ControllerStatus) -> str | None:
        """Why to re-plan at once (a changed fact the plan depends on), or None."""
        # The SoC becoming known is a fact too: a CHAdeMO car reports it only in a session.
        seen = (status.ev_plugged, status.ev_soc_pct is not None, status.grid_ok, status.faults,
                status.power_winner == "grid_operator",
                status.power_limit_w if status.power_winner == "grid_operator" else None)
        before, self._seen = self._seen, seen
        if before is None or before == seen:
            return None
        names = ("plug", "SoC known", "grid", "faults", "grid operator", "grid operator limit")
        return "changed: " + ", ".join(n for n, a, b in zip(names, before, seen, strict=True)
                                       if a != b)

    async def tick(self, api: ControllerApi) -> None:
        """One wake-up: learn, re-plan if due or urged, claim the current step (unless the
        owner's manual choice holds the planner)."""
        status = api.status
        if status is None or not api.connected:
            return
        now = self._clock()
        self.soc.observe(status.ev_plugged, status.ev_soc_pct, now.timestamp())
        self._learn(now, status)
        hold = self.hold.observe(self.prefs, now.astimezone(self.cfg.planner.zone))
        self.suspended = hold.suspended
        self.prefs.planner_status = hold.text
        if hold.suspended or hold.ended:
            self._held = None  # the owner's claim replaced ours (or auto released it)
        why = self._triggers(status) or self._urgent
        if why is None and self._next_plan is not None and now >= self._next_plan:
            why = "every 15 minutes"
        if why is not None or self.latest is None:
            self._urgent = None
            if not await self._replan(api, now, status, why or "start"):
                return
        if hold.ended and self.current_index(now) is None:
            await api.release(REQUESTER)  # the expired manual claim, with no step to replace it
        if not hold.suspended:
            await self._carry_out(api, now)

    def _learn(self, now: dt.datetime, status: ControllerStatus) -> None:
        if status.home_power_w is None:
            return
        if self._last_sample is None or now - self._last_sample >= dt.timedelta(minutes=15):
            local = now.astimezone(self.cfg.planner.zone)
            self.load_model.learn(local, status.home_power_w / 1000.0)
            if status.pv_power_w is not None:
                self.pv_history.learn(local, status.pv_power_w / 1000.0)
            self._last_sample = now

    async def _replan(self, api: ControllerApi, now: dt.datetime, status: ControllerStatus,
                      why: str) -> bool:
        plugged = status.ev_plugged
        soc = self.soc.for_plan(plugged, self.cfg.battery.reserve_pct)
        cap = None
        if status.power_winner == "grid_operator" and status.power_limit_w is not None:
            cap = status.power_limit_w / 1000.0
        try:
            problem, notes = build_problem(self.cfg, now, soc, plugged,
                                           load_model=self.load_model, import_cap_kw=cap,
                                           pv_history=self.pv_history)
            scenarios = pv_scenarios(self.cfg, problem, self.pv_history)
            plan = await asyncio.to_thread(solve_scenarios, problem, scenarios)
        except (PlannerInputError, PlannerSolveError) as err:
            self.latest, self._problem, self._held = None, None, None
            self.prefs.plan = {}
            if self.suspended:  # the schedule claim is the owner's: leave it alone
                log.error("no plan (%s): %s", why, err)
            else:
                log.error("no plan (%s): %s; releasing the schedule claim", why, err)
                self.prefs.planner_status = f"no plan: {err}"
                await api.release(REQUESTER)
            self._next_plan = now + dt.timedelta(seconds=self.cfg.planner.replan_s)
            return False
        if notes:
            plan = Plan(plan.steps, plan.energy_cost, plan.wear_cost, plan.solve_s,
                        plan.notes + notes)
        record = PlanRecord(now, why, plan, savings(plan, problem))
        self.latest, self._problem = record, problem
        self.history.append(record)
        self.prefs.plan = record.summary()
        self._next_plan = now + dt.timedelta(seconds=self.cfg.planner.replan_s)
        self._held = None  # claim the (new) current step again
        log.info("plan (%s): %s, energy %.2f, wear %.2f, saves %.2f", why,
                 plan.steps[0].mode, plan.energy_cost, plan.wear_cost, record.savings)
        return True

    def current_index(self, now: dt.datetime) -> int | None:
        """The plan's step at ``now`` (None: no plan, or past its end)."""
        if self.latest is None or self._problem is None:
            return None
        i = int((now - self._problem.start) / dt.timedelta(hours=self._problem.step_h))
        return i if 0 <= i < len(self.latest.plan.steps) else None

    def current_step(self, now: dt.datetime) -> Step | None:
        i = self.current_index(now)
        return None if i is None or self.latest is None else self.latest.plan.steps[i]

    async def _carry_out(self, api: ControllerApi, now: dt.datetime) -> None:
        i = self.current_index(now)
        if i is None or self.latest is None:
            return
        status = api.status
        if self.prefs.manual_mode is not None or self.prefs.power_limit_w is not None:
            return  # the owner chose by hand since this wake-up looked (a re-plan awaited)
        if status is not None and self.soc.waiting(status.ev_plugged, now.timestamp()):
            return  # the controller's SoC read on plug-in may still come: claim nothing yet
        if status is not None and self.soc.needs_probe(status.ev_plugged, now.timestamp()):
            # A silent car's SoC (gateway/planner/soc_memory.py): its first report re-plans.
            wish = ("charge", SOC_PROBE_W)
            if wish != self._held:
                reply = await api.claim(REQUESTER, mode="charge", power_limit_w=SOC_PROBE_W,
                                        lease_s=self.cfg.planner.lease_s)
                self.claims.append((now, "charge", SOC_PROBE_W, reply))
                self._held = wish
            return
        surplus = None
        if status is not None and status.pv_power_w is not None and status.home_power_w is not None:
            surplus = (status.pv_power_w - status.home_power_w) / 1000.0
        cfg = self.cfg
        plan, absorb = self.latest.plan, cfg.planner.absorb_surplus
        cap = charge_cap_kw(cfg.limits, cfg.battery, cfg.wear)
        max_discharge_kw = cfg.limits.max_discharge_kw
        name, kw = claim_for(plan, i, max_discharge_kw, surplus, absorb=absorb, max_charge_kw=cap)
        if status is not None and surplus is not None:  # the surplus's comings and goings wait
            charging = status.mode == "charge" and status.mode_winner == REQUESTER
            without = claim_for(plan, i, max_discharge_kw, 0.0, absorb=absorb, max_charge_kw=cap)
            name, kw = self.dwell.settle(now.timestamp(), charging, (name, kw), without)
        mode: Mode = name  # type: ignore[assignment]  # one of MODES, all controller modes
        power_w = round(kw * 10.0) * 100  # 100 W steps: a measured surplus does not re-claim
        # at every wake-up
        wish = (mode, float(power_w))
        if wish == self._held:
            return
        reply = await api.claim(REQUESTER, mode=mode,
                                power_limit_w=power_w if mode != "idle" else None,
                                lease_s=self.cfg.planner.lease_s)
        self.claims.append((now, mode, float(power_w), reply))
        if reply.ok:
            self._held = wish
        else:
            log.warning("schedule claim %s %d W refused: %s", mode, power_w, reply.text)
            self._held = wish  # do not hammer the controller; the next step or event retries
