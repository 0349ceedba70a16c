"""The mode machine: a ``transitions`` HierarchicalMachine over :class:`ModeLogic`.

Guards are pure reads of the tick context; hardware side effects happen only in enter callbacks,
and only by changing the :class:`OutputPlan`. An exception in any callback ends in ``fault`` with
the plan made safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions.extensions import HierarchicalMachine

from controller.config.model import Config
from controller.faults import UNTRUSTED_INVERTER
from controller.modes.checks import Isolation, dc_isolation, insulation_ok
from controller.modes.context import TickContext
from controller.modes.plan import OutputPlan
from controller.modes.service import TEST_HOLD_S, refusal
from controller.modes.states import CHILDREN, GRID_PARALLEL_MODES, LATCHED, TOP_LEVEL, State
from controller.modes.table import ANY, TRANSITIONS
from controller.protection.debounce import HeldFor
from hal.protocols.inverter_messages import InverterMode

_STATE_BY_NAME: dict[str, State] = {state.value: state for state in State}

TICK = "tick"
POWER_AT_ZERO_W = 50.0
SELFTEST_MIN_S = 0.5
# stopping_isolate: after K_AC's own confirmation time, the DC current has this long to fall
# below sequence.open_below_current_a before K_DC opens anyway (the last resort, recorded).
ISOLATE_SETTLE_S = 0.5


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    t: float
    source: str
    dest: str
    trigger: str
    reason: str


def tick_guards(state: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """The guards of every ``tick`` transition that can leave ``state`` (or one of its parents)."""
    names = {state} | {parent.value for parent, children in CHILDREN.items()
                       if State(state) in children}
    return tuple((tr.conditions, tr.unless) for tr in TRANSITIONS
                 if tr.trigger == TICK and tr.source != ANY and State(tr.source).value in names)


def _states() -> list[Any]:
    out: list[Any] = []
    for top in TOP_LEVEL:
        children = CHILDREN.get(top)
        if children is None:
            out.append(top.value)
        else:
            names = [c.value.removeprefix(top.value + "_") for c in children]
            out.append({"name": top.value, "children": names, "initial": names[0]})
    return out


class ModeLogic:
    """The model: guards, enter callbacks and the per-state deadlines (from the loop clock)."""

    state: str
    trigger: Callable[..., bool]  # added by transitions

    def __init__(self, config: Config, plan: OutputPlan,
                 on_transition: Callable[[TransitionRecord], None],
                 on_fault: Callable[[str, str], None],
                 on_refusal: Callable[[str, str], None] = lambda mode, why: None) -> None:
        self.config = config
        self.plan = plan
        self.ctx: TickContext | None = None
        self.entered_at = 0.0
        self.reason = ""
        self.hot_open = False
        self._leaving = ""
        self._triggers: dict[str, frozenset[str]] = {}
        self._tick_guards: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {}
        self.last_energised: State | None = None
        self._overload = HeldFor()  # the V2L outlet above its rating
        self._imd_ok = HeldFor()  # the insulation monitor reporting OK
        # ...and reporting OK without a break while the DC side is open (every tick, any state):
        # the insulation test's own conditions, credited to a cold start for backup.
        self._imd_history = HeldFor()
        self.backup_start = False  # a cold start for backup is under way (from ev_connected)
        self.test_contactor: str | None = None  # the contactor under a service test
        self._test_response_s: float | None = None
        self._on_transition = on_transition
        self._on_fault = on_fault
        self._on_refusal = on_refusal
        self.machine = HierarchicalMachine(
            model=self, states=_states(), initial=State.SELFTEST.value,
            auto_transitions=False, queued=True, send_event=True,
            before_state_change="_before_change", after_state_change="_after_change",
            on_exception="_on_exception",
        )
        for tr in TRANSITIONS:
            source = ANY if tr.source == ANY else State(tr.source).value
            self.machine.add_transition(
                tr.trigger, source, tr.dest.value, conditions=list(tr.conditions),
                unless=list(tr.unless), before=tr.before,
            )

    def fire(self, trigger: str) -> bool:
        """Fire ``trigger`` if the current state (or a parent) has it; returns whether it ran.

        ``tick`` fires every control tick and almost never moves the machine, so its guards are
        evaluated here first (the same guards, table order irrelevant: only "does any hold"
        matters) and ``transitions`` is entered only when one holds. Guards are pure reads of
        the tick context, so evaluating them twice in a tick gives the same answer.
        """
        triggers = self._triggers.get(self.state)
        if triggers is None:  # the table never changes: look each state up once
            triggers = self._triggers[self.state] = frozenset(self.machine.get_triggers(self.state))
        if trigger == TICK and self.ctx is not None:
            self._observe()
        if trigger not in triggers:
            return False
        if trigger == TICK and not self._any_tick_guard_holds():
            return False
        return bool(self.trigger(trigger))

    def _any_tick_guard_holds(self) -> bool:
        guards = self._tick_guards.get(self.state)
        if guards is None:
            guards = self._tick_guards[self.state] = tick_guards(self.state)
        for conditions, unless in guards:
            if all(getattr(self, name)(None) for name in conditions) and not any(
                    getattr(self, name)(None) for name in unless):
                return True
        return False

    # ----- helpers --------------------------------------------------------------------------
    @property
    def current(self) -> State:
        return _STATE_BY_NAME[self.state]  # State(name) is an enum call: read every tick

    def _c(self) -> TickContext:
        if self.ctx is None:
            raise RuntimeError("mode machine used before the first tick context")
        return self.ctx

    def _now(self) -> float:
        return self._c().snapshot.t

    def time_in_state(self) -> float:
        return self._now() - self.entered_at

    def _closed(self, name: str) -> bool:
        view = self._c().snapshot.contactors[name]
        return view.feedback_closed if view.feedback_closed is not None else view.commanded_closed

    @property
    def export_permitted(self) -> bool:
        """Export is the job: v2g, or the ramp-down that ends a v2g session."""
        if self.current is State.ENERGISED_V2G:
            return True
        return self.current.value.startswith("stopping") and self.last_energised is (
            State.ENERGISED_V2G)

    def _before_change(self, _e: Any) -> None:
        self._leaving = self.state

    def _after_change(self, event: Any) -> None:
        self.entered_at = self._now() if self.ctx is not None else 0.0
        if not self.state.startswith("starting"):
            self.backup_start = False  # set by record_outage_while_idle, kept while starting
        if self.state.startswith("energised_"):
            self.last_energised = _STATE_BY_NAME[self.state]
        self._on_transition(TransitionRecord(
            self.entered_at, self._leaving, self.state, event.event.name, self.reason))
        self.reason = ""

    def _on_exception(self, event: Any) -> None:
        self.plan.safe()
        self.machine.set_state(State.FAULT.value, model=self)
        self._on_fault("INTERNAL_ERROR",
                       f"{type(event.error).__name__} in mode machine: {event.error}")

    # ----- guards ---------------------------------------------------------------------------
    def selftest_failed(self, _e: Any) -> bool:
        return self._c().latched_faults > 0

    def selftest_passed(self, _e: Any) -> bool:
        c = self._c()
        return (self.time_in_state() >= SELFTEST_MIN_S and c.latched_faults == 0
                and not c.protection.trips)

    def ev_connected(self, _e: Any) -> bool:
        """An EV is plugged in (the proximity input) and reporting on its CAN bus."""
        snap = self._c().snapshot
        return snap.inputs.get("ev_present", False) and snap.ev is not None

    # ----- DC-side checks (controller/modes/checks.py) ---------------------------------------
    def dc_proven_open(self, _e: Any) -> bool:
        check = dc_isolation(self._c().snapshot, self.config.sequence,
                             self.config.protection.sensor_max_age_s)
        if check.verdict is Isolation.AUX_ONLY:
            self.reason = f"DC contactors {check.verdict.value}: {check.detail}"
        return check.verdict is not Isolation.NOT_PROVEN

    def weld_check_expired(self, e: Any) -> bool:
        return (self.time_in_state() > self.config.sequence.weld_check_timeout_s
                and not self.dc_proven_open(e))

    def _imd_history_ok(self) -> bool:
        """The insulation monitor reports OK and K_DC and K_PRE are confirmed open."""
        snap = self._c().snapshot
        dc_open = all(snap.contactors[n].feedback_closed is False if n in snap.contactors
                      else False for n in ("dc", "precharge"))
        return dc_open and insulation_ok(snap)

    def _observe(self) -> None:
        """Once per tick, whatever the state: the insulation monitor's unbroken history."""
        self._imd_history.held(self._now(), self._imd_history_ok())

    def insulation_proven(self, _e: Any) -> bool:
        """The insulation monitor has reported OK for ``insulation_test_s`` in a row. A cold
        start for backup credits the monitor's unbroken healthy history with the DC side open
        before the test (the same conditions, read every tick; docs/safety.md)."""
        now = self._now()
        held = self._imd_ok.held(now, insulation_ok(self._c().snapshot))
        if self.backup_start:
            held = max(held, self._imd_history.held(now, self._imd_history_ok()))
        return held >= self.config.sequence.insulation_test_s  # (a positive setting)

    def insulation_ok_now(self, _e: Any) -> bool:
        return insulation_ok(self._c().snapshot)

    def record_insulation_retest(self, _e: Any) -> None:
        self.reason = ("the insulation monitor alarmed during the precharge: K_PRE opens and the "
                       "insulation test starts again")

    def insulation_test_expired(self, e: Any) -> bool:
        return (self.time_in_state() > self.config.sequence.insulation_test_timeout_s
                and not self.insulation_proven(e))

    def _record_weld(self, when: str) -> None:
        check = dc_isolation(self._c().snapshot, self.config.sequence,
                             self.config.protection.sensor_max_age_s)
        self.reason = "CONTACTOR_WELDED"
        self._on_fault("CONTACTOR_WELDED", f"K_DC or the precharge relay not proven open "
                       f"{when} within {self.config.sequence.weld_check_timeout_s} s: "
                       f"{check.detail}")

    def record_weld_before_closing(self, _e: Any) -> None:
        self._record_weld("before closing")

    def record_weld_after_opening(self, _e: Any) -> None:
        self._record_weld("after opening")

    def record_insulation_test_failure(self, _e: Any) -> None:
        self.reason = "INSULATION_FAULT"
        self._on_fault("INSULATION_FAULT", "insulation test before precharge: the insulation "
                       f"monitor did not report OK for {self.config.sequence.insulation_test_s} s "
                       f"within {self.config.sequence.insulation_test_timeout_s} s")

    # ----- the technician's contactor test (controller/modes/service.py) --------------------
    def contactor_test_wanted(self, _e: Any) -> bool:
        c = self._c()
        name = c.contactor_test
        return name is not None and refusal(
            name, self.current, self.plan.is_safe(), c.request.mode, c.snapshot,
            self.config.sequence, self.config.protection.sensor_max_age_s) is None

    def contactor_test_done(self, _e: Any) -> bool:
        name = self.test_contactor
        if name is not None and self._test_response_s is None:
            view = self._c().snapshot.contactors[name]
            if view.feedback_closed is not None and view.feedback_closed == view.commanded_closed:
                self._test_response_s = self.time_in_state()
        return self.time_in_state() >= TEST_HOLD_S

    def record_contactor_test(self, _e: Any) -> None:
        response = self._test_response_s
        shown = ("no aux contact fitted" if self._c().snapshot.contactors[
            self.test_contactor or ""].feedback_closed is None
                 else "aux did not follow" if response is None
                 else f"aux followed within {response * 1000:.0f} ms")
        self.reason = f"contactor test of {self.test_contactor} done: {shown}"

    def energy_wanted(self, _e: Any) -> bool:
        return self._c().request.mode in (*GRID_PARALLEL_MODES, "v2l")

    def wants_charge(self, _e: Any) -> bool:
        return self._c().request.mode == "charge"

    def wants_v2h(self, _e: Any) -> bool:
        return self._c().request.mode == "v2h"

    def wants_v2g(self, _e: Any) -> bool:
        return self._c().request.mode == "v2g"

    def wants_v2l(self, _e: Any) -> bool:
        return self._c().request.mode == "v2l"

    def may_stay_energised(self, _e: Any) -> bool:
        c = self._c()
        snap = c.snapshot
        present = (snap.ev is not None and snap.inputs.get("ev_present", False)
                   and snap.inputs.get("door", False))
        if not present:
            return False
        # The V2L outlet is isolated from the home and the utility: it needs no grid.
        if self.current is State.ENERGISED_V2L or (
                self.current.value.startswith("starting") and c.request.mode == "v2l"):
            return True
        # Every grid-parallel mode needs a normal grid; export (v2g) also a healthy protection.
        return c.protection.grid.ok and not (c.request.mode == "v2g" and c.protection.trips)

    def _above_reserve(self) -> bool:
        ev = self._c().snapshot.ev
        v2h = self.config.v2h
        return ev is not None and ev.discharge_compatible and ev.soc_pct > (
            v2h.reserve_soc_pct + v2h.reserve_hysteresis_pct)

    def may_energise(self, _e: Any) -> bool:
        return self.blocked_reason() is None

    def blocked_reason(self) -> str | None:
        """Why the requested mode cannot start now (None: it may), in words for the requester."""
        c = self._c()
        snap, mode = c.snapshot, c.request.mode
        if mode not in (*GRID_PARALLEL_MODES, "v2l"):
            return None
        ev = snap.ev
        if not snap.inputs.get("ev_present", False) or ev is None:
            return "no EV connected, or it is not reporting"
        if not snap.inputs.get("door", False):
            return "the enclosure door is open"
        if c.protection.trips:
            return "protection trip: " + ", ".join(sorted({t.code for t in c.protection.trips}))
        if mode != "v2l" and not c.protection.grid.ok:
            return f"the grid is not normal ({c.protection.grid.reason})"
        if snap.inverter_settings_problem is not None:
            return f"inverter settings not verified ({snap.inverter_settings_problem})"
        if mode == "charge":
            return None if ev.charging_enabled else "the EV does not allow charging"
        if not ev.discharge_compatible:
            return "the EV does not support discharge (no V2X)"
        if not self._above_reserve():
            floor = self.config.v2h.reserve_soc_pct + self.config.v2h.reserve_hysteresis_pct
            return f"EV at {ev.soc_pct:.0f} % SoC: {mode} needs more than {floor:.0f} %"
        return None

    def start_abandoned(self, e: Any) -> bool:
        """Starting stops when energy is no longer wanted or no longer allowed (a cold start for
        backup: when backup is no longer allowed or the utility is back)."""
        if self.backup_start:
            return not (self.backup_allowed(e) and self.grid_lost(e)) or self._stop_requested()
        return not (self.energy_wanted(e) and self.may_energise(e))

    def starting_for_backup(self, _e: Any) -> bool:
        return self.backup_start

    def backup_from_idle_allowed(self, e: Any) -> bool:
        """The owner's consent to discharge an EV that is not discharging (from ev_connected or
        charge); an explicit stop request withholds it (else the cold start is abandoned at
        once and retried every few ticks)."""
        return self.config.backup.from_idle and self.backup_allowed(e) and (
            self._c().snapshot.inputs.get("door", False)) and not self._stop_requested()

    def _stop_requested(self) -> bool:
        """An explicit idle request; with ``backup.from_idle`` no request at all is not a stop."""
        request = self._c().request
        return request.mode == "idle" and (request.source != "default"
                                           or not self.config.backup.from_idle)

    def stop_needed(self, e: Any) -> bool:
        """Energised stops when energy is no longer wanted or no longer allowed, or when the
        request moves between V2L and a grid-parallel mode (different contactors)."""
        if not (self.energy_wanted(e) and self.may_stay_energised(e)):
            return True
        if self.current is State.ENERGISED_V2L and self._at_or_below_reserve():
            return True  # v2l cannot hold zero power: it stops at the reserve
        return (self.current is State.ENERGISED_V2L) != self.wants_v2l(e)

    def _at_or_below_reserve(self) -> bool:
        ev = self._c().snapshot.ev
        return ev is not None and ev.soc_pct <= self.config.v2h.reserve_soc_pct

    def v2l_overloaded(self, _e: Any) -> bool:
        """The outlet has drawn more than its rating for longer than the overload time."""
        status = self._c().snapshot.inverter
        drawn = -status.ac_power_w if status is not None else 0.0
        held = self._overload.held(self._now(), drawn > self.config.v2l.rated_power_w)
        return held > self.config.v2l.overload_time_s

    # ----- backup (utility outage) -----------------------------------------------------------
    def grid_lost(self, _e: Any) -> bool:
        """The meter sees no utility voltage at all (not merely an abnormal grid), or the
        islanding backstop suspects the utility is gone while the bus is still held up."""
        c = self._c()
        est = c.estimate
        return est is None or not est.voltage_present or c.protection.grid.island

    def backup_allowed(self, _e: Any) -> bool:
        ev = self._c().snapshot.ev
        floor = self.config.backup.reserve_soc_pct + self.config.v2h.reserve_hysteresis_pct
        return (self.config.backup.enabled and ev is not None and ev.discharge_compatible
                and ev.soc_pct > floor and not self._c().protection.trips)

    def backup_reserve_reached(self, _e: Any) -> bool:
        ev = self._c().snapshot.ev
        return (ev is None or ev.soc_pct <= self.config.backup.reserve_soc_pct
                or self._stop_requested())

    def grid_open_confirmed(self, _e: Any) -> bool:
        view = self._c().snapshot.contactors["grid"]
        return view.feedback_closed is False  # an unconfirmed K_GRID forbids forming

    def grid_normal(self, _e: Any) -> bool:
        """The returned utility is inside the enter-service window now."""
        grid = self._c().protection.grid
        return grid.ok or grid.in_window

    def return_delay_passed(self, _e: Any) -> bool:
        """Enter service: the window held for the whole delay (backup.return_delay_s)."""
        return self._c().protection.grid.ok

    def inverter_synced(self, _e: Any) -> bool:
        status = self._c().snapshot.inverter
        return status is not None and status.synced and self._c().protection.grid.ok

    def sync_expired(self, _e: Any) -> bool:
        return self.time_in_state() > self.config.backup.sync_timeout_s

    def grid_closed_confirmed(self, _e: Any) -> bool:
        return self._c().snapshot.contactors["grid"].feedback_closed is True

    def record_outage(self, _e: Any) -> None:
        mode = self.state.removeprefix("energised_")
        self.reason = f"utility lost during {mode}: isolating the home for backup"

    def record_outage_while_idle(self, _e: Any) -> None:
        self.backup_start = True
        self.reason = ("utility lost with an EV connected (backup.from_idle): isolating the home "
                       "while the DC side starts for backup")

    def record_backup_reserve(self, _e: Any) -> None:
        self.reason = ("backup stopped: the outage reserve "
                       f"({self.config.backup.reserve_soc_pct:.0f} % SoC) is reached, or a stop "
                       "was requested")

    def record_sync_timeout(self, _e: Any) -> None:
        self.reason = (f"no synchronisation with the returned utility within "
                       f"{self.config.backup.sync_timeout_s} s: returning through a stop "
                       "(the home is dark for a moment)")

    def record_v2l_overload(self, _e: Any) -> None:
        self.reason = (f"V2L overload: the outlet drew more than "
                       f"{self.config.v2l.rated_power_w:.0f} W for "
                       f"{self.config.v2l.overload_time_s} s; unplug a load and ask again")
        self._on_refusal("v2l", self.reason)

    def precharged(self, _e: Any) -> bool:
        snap = self._c().snapshot
        age = self.config.protection.sensor_max_age_s
        link = snap.analog_value("dc_link_v", age)
        inlet = snap.analog_value("ev_inlet_v", age)
        if link is None or inlet is None or not self._closed("precharge"):
            return False
        return abs(link - inlet) <= self.config.sequence.precharge_tolerance_v

    def precharge_expired(self, _e: Any) -> bool:
        return self.time_in_state() > self.config.sequence.precharge_timeout_s

    def dc_closed_confirmed(self, _e: Any) -> bool:
        return self._closed("dc")

    def output_confirmed(self, e: Any) -> bool:
        """The AC side chosen for the request is closed and the precharge path open."""
        side = "v2l" if self.wants_v2l(e) and not self.backup_start else "ac"
        return self._closed(side) and not self._closed("precharge")

    def power_at_zero(self, _e: Any) -> bool:
        return abs(self._c().commanded_power_w) < POWER_AT_ZERO_W

    def dc_current_a(self) -> float | None:
        snap = self._c().snapshot
        return snap.analog_value("dc_current_a", self.config.protection.sensor_max_age_s)

    def dc_current_low(self, _e: Any) -> bool:
        current = self.dc_current_a()
        return current is not None and abs(current) < self.config.sequence.open_below_current_a

    def ramp_done(self, _e: Any) -> bool:
        if self.dc_current_low(_e) and self.power_at_zero(_e):
            return True
        if self.time_in_state() > self.config.sequence.rampdown_timeout_s:
            self.hot_open = True
            self.reason = "ramp-down timeout: opening under load (hot open recorded)"
            return True
        return False

    # ----- an inverter that cannot be trusted to take the power away (stopping_isolate) -----
    def inverter_untrusted(self, _e: Any) -> bool:
        """A fault this tick says the inverter does not follow its command or reports what
        cannot be true (``controller/faults.py``, ``UNTRUSTED_INVERTER``)."""
        codes = {t.code for t in self._c().protection.trips} & UNTRUSTED_INVERTER
        if codes:
            self.reason = (f"{', '.join(sorted(codes))}: inverter disabled, the AC side opens "
                           "first, the DC side once its current is low")
        return bool(codes)

    def isolation_expired(self, _e: Any) -> bool:
        limit = self.config.sequence.contactor_timeout_s + ISOLATE_SETTLE_S
        return self.time_in_state() > limit

    def record_last_resort(self, _e: Any) -> None:
        """The last resort is an emergency (DC_NOT_ISOLATED): the one case K_DC may open under
        load; the supervisor records the hot open."""
        self.hot_open = True
        limit = self.config.sequence.contactor_timeout_s + ISOLATE_SETTLE_S
        current = self.dc_current_a()
        shown = "unknown" if current is None else f"{current:.1f} A"
        self.reason = "DC_NOT_ISOLATED"
        self._on_fault("DC_NOT_ISOLATED", f"DC current {shown}, not below "
                       f"{self.config.sequence.open_below_current_a} A {limit} s after the AC "
                       "side opened with the inverter disabled: K_DC opens under load as the "
                       "last resort")

    def all_open_confirmed(self, _e: Any) -> bool:
        return not any(self._closed(n) for n in ("dc", "ac", "precharge", "v2l"))

    def in_latched_state(self, _e: Any) -> bool:
        return self.current in LATCHED

    def in_estop(self, _e: Any) -> bool:
        return self.current is State.ESTOP

    def reset_allowed(self, _e: Any) -> bool:
        c = self._c()
        return c.reset_requested and not c.protection.trips

    # ----- before callbacks (why) ------------------------------------------------------------
    def record_selftest_failure(self, _e: Any) -> None:
        self.reason = "latched faults present at start-up"

    def record_precharge_timeout(self, _e: Any) -> None:
        self.reason = "PRECHARGE_TIMEOUT"
        self._on_fault("PRECHARGE_TIMEOUT", "DC link did not reach the EV voltage within "
                       f"{self.config.sequence.precharge_timeout_s} s")

    # ----- enter callbacks: the only place outputs change -----------------------------------
    def on_enter_selftest(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_idle(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_service_test(self, _e: Any) -> None:
        name = self._c().contactor_test
        self.plan.safe()
        if name is not None:
            self.test_contactor = name
            self._test_response_s = None
            self.plan.set(**{name: not self.plan.contactors[name]})  # operate its coil

    def on_enter_ev_connected(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_starting_weldcheck(self, _e: Any) -> None:
        # Everything open while the DC side is proven dead; a cold start for backup keeps K_GRID
        # open (the utility is dead and the home will be islanded).
        self.plan.safe()
        if self.backup_start:
            self.plan.set(grid=False)

    def on_enter_starting_insulation_test(self, _e: Any) -> None:
        self._imd_ok = HeldFor()
        self.plan.set(precharge=False)  # on a retest from the precharge: the DC side opens

    def on_enter_starting_precharge(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.set(precharge=True)

    def on_enter_starting_close_dc(self, _e: Any) -> None:
        self.plan.set(dc=True)

    def on_enter_starting_close_ac(self, e: Any) -> None:
        # K_AC and K_V2L are never commanded closed together (invariant 2).
        if self.wants_v2l(e) and not self.backup_start:
            self.plan.set(precharge=False, ac=False, v2l=True)
        else:
            self.plan.set(precharge=False, v2l=False, ac=True)

    def on_enter_energised(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FOLLOWING
        self.plan.sync_to_grid = False

    def on_enter_energised_v2l(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING  # isolated: K_AC open
        self._overload = HeldFor()

    def on_enter_backup_isolate(self, _e: Any) -> None:
        # Cease first, then open K_GRID (energise its coil): never form onto the utility line.
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(grid=False)

    def on_enter_backup_island(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING
        self.plan.sync_to_grid = False

    def on_enter_backup_resync(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING
        self.plan.sync_to_grid = True

    def on_enter_backup_reconnect(self, _e: Any) -> None:
        self.plan.set(grid=True)  # K_GRID's coil drops: it recloses, in phase

    def on_enter_stopping_ramp(self, _e: Any) -> None:
        self.hot_open = False
        if self.plan.inverter_mode is InverterMode.GRID_FORMING:
            # A grid-forming source (v2l, backup) has no power setpoint to ramp: the load sets
            # it. Ceasing is its ramp to zero; the contacts then open without current.
            self.plan.inverter_mode = InverterMode.OFF
            self.plan.sync_to_grid = False

    def on_enter_stopping_isolate(self, _e: Any) -> None:
        # The AC side breaks the current (an AC contact interrupts at the zero crossing); the
        # DC contactor waits for its current to fall (``dc_current_low``).
        self.hot_open = False
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(ac=False, v2l=False, precharge=False)

    def on_enter_stopping_open(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(ac=False, dc=False, precharge=False, v2l=False)

    def on_enter_fault(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_estop(self, _e: Any) -> None:
        self.plan.safe()
