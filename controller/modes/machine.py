"""The mode machine: a ``transitions`` HierarchicalMachine over :class:`ModeLogic`.

One step per tick (:meth:`ModeLogic.observe` on the tick's context, then the triggers: the
supervisor's ``trip`` / ``reset`` if any, then ``tick``; then :meth:`ModeLogic.take`):
the machine takes the tick's context as an argument and hands back :class:`Intents` (the
transitions to record, faults to latch, claims to release) instead of calling the supervisor.
Guards are pure reads (``guards.py``, ``guards_stop.py``); hardware side effects happen only in
enter callbacks, and only by changing the :class:`OutputPlan` (``callbacks.py``). An exception
in any callback is noted as an ``INTERNAL_ERROR`` intent, which the supervisor's one trip path
turns into the ``trip`` trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions.extensions import HierarchicalMachine

from controller.config.model import Config
from controller.modes.base import STATE_BY_NAME
from controller.modes.callbacks import Callbacks
from controller.modes.intents import NO_INTENTS, FaultIntent, Intents, TransitionRecord
from controller.modes.plan import OutputPlan
from controller.modes.states import CHILDREN, STOPPING_STATES, TOP_LEVEL, State
from controller.modes.table import ANY, TRANSITIONS

TICK = "tick"
Guard = tuple[tuple[str, ...], tuple[str, ...]]  # (conditions, unless) of one transition
Check = Callable[[Any], bool]
BoundGuard = tuple[tuple[Check, ...], tuple[Check, ...]]  # the same, as this model's methods


def tick_guards(state: str) -> tuple[Guard, ...]:
    """The guards of every ``tick`` transition that can leave ``state`` (or one of its parents)."""
    names = {state} | {parent.value for parent, children in CHILDREN.items()
                       if State(state) in children}
    return tuple((tr.conditions, tr.unless) for tr in TRANSITIONS
                 if tr.trigger == TICK and tr.source != ANY and State(tr.source).value in names)


def machine_states() -> list[Any]:
    """The state tree in the form ``transitions`` takes (children named without the parent)."""
    out: list[Any] = []
    for top in TOP_LEVEL:
        children = CHILDREN.get(top)
        if children is None:
            out.append(top.value)
        else:
            names = [c.value.removeprefix(top.value + "_") for c in children]
            out.append({"name": top.value, "children": names, "initial": names[0]})
    return out


class ModeLogic(Callbacks):
    """The model: guards, callbacks, the per-state deadlines (on the loop clock), and the
    intents a step produced."""

    trigger: Callable[..., bool]  # added by transitions

    def __init__(self, config: Config, plan: OutputPlan) -> None:
        super().__init__(config, plan)
        self._leaving = ""
        self._triggers: dict[str, frozenset[str]] = {}
        self._tick_guards: dict[str, tuple[BoundGuard, ...]] = {}
        self.machine = HierarchicalMachine(
            model=self, states=machine_states(), initial=State.SELFTEST.value,
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

    # ----- one step --------------------------------------------------------------------------
    def take(self) -> Intents:
        """What the triggers fired since the last call ask of the supervisor (then forgotten)."""
        if not self.pending:
            return NO_INTENTS
        intents = Intents(tuple(self._records), tuple(self._faults), tuple(self._refusals))
        self._records.clear()
        self._faults.clear()
        self._refusals.clear()
        self.pending = False
        return intents

    def fire(self, trigger: str, reason: str = "", now: float | None = None) -> bool:
        """Fire ``trigger`` if the current state (or a parent) has it; returns whether it ran.
        ``reason`` is recorded with the transition; ``now`` (outside a tick's step: the trip
        path after an error) is the time it is recorded at.

        ``tick`` fires every control tick and almost never moves the machine, so its guards are
        evaluated here first (the same guards; only "does any hold" matters) and
        ``transitions`` is entered only when one holds. Guards are pure reads of the tick
        context and the timers :meth:`begin` advanced, so evaluating them twice in a tick gives
        the same answer.
        """
        if now is not None:
            self.t = now
        state = self._state  # (``state`` without its property: this runs every tick)
        triggers = self._triggers.get(state)
        if triggers is None:  # the table never changes: look each state up once
            triggers = self._triggers[state] = frozenset(self.machine.get_triggers(state))
        if trigger not in triggers:
            return False
        if trigger == TICK and (self.ctx is None or not self._any_tick_guard_holds()):
            return False
        self.reason = reason
        try:
            return bool(self.trigger(trigger))
        finally:
            self.reason = ""  # a reason belongs to one firing

    def _any_tick_guard_holds(self) -> bool:
        state = self._state
        guards = self._tick_guards.get(state)
        if guards is None:  # each state's guards looked up once, as bound methods
            guards = self._tick_guards[state] = tuple(
                (tuple(getattr(self, n) for n in conditions),
                 tuple(getattr(self, n) for n in unless))
                for conditions, unless in tick_guards(state))
        # all(conditions) and not any(unless), in the same order, without a generator each:
        for conditions, unless in guards:
            for check in conditions:
                if not check(None):
                    break
            else:
                for check in unless:
                    if check(None):
                        break
                else:
                    return True
        return False

    # ----- what other stages read --------------------------------------------------------------
    @property
    def export_permitted(self) -> bool:
        """Export is the job: v2g, or the ramp-down that ends a v2g session."""
        current = self.current
        if current is State.ENERGISED_V2G:
            return True
        return self.last_energised is State.ENERGISED_V2G and current in STOPPING_STATES

    # ----- transitions' hooks ------------------------------------------------------------------
    def _before_change(self, _e: Any) -> None:
        self._leaving = self.state

    def _after_change(self, event: Any) -> None:
        self.entered_at = self.t
        if not self.state.startswith("starting"):
            self.backup_start = False  # set by record_outage_while_idle, kept while starting
        if self.state.startswith("energised_"):
            self.last_energised = STATE_BY_NAME[self.state]
        self._records.append(TransitionRecord(
            self.entered_at, self._leaving, self.state, event.event.name, self.reason))
        self.pending = True
        self.reason = ""

    def _on_exception(self, event: Any) -> None:
        self._faults.append(FaultIntent(
            "INTERNAL_ERROR", f"{type(event.error).__name__} in mode machine: {event.error}"))
        self.pending = True
