"""The mode machine as built is the transition table, and its guards are pure (issue 18 item 7).

The diagram (``docs/state-machine.md``) is drawn from the table; these tests check the table
against the machine ``transitions`` really built from it, and that every name the table uses
is a method of the model, so neither can drift from the other without a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from controller.config.loader import parse_config
from controller.modes.machine import ModeLogic
from controller.modes.plan import OutputPlan
from controller.modes.states import CHILDREN, State
from controller.modes.table import ANY, TRANSITIONS, Transition
from controller.protection.debounce import HeldFor
from hal.sim.params import PlantParams
from harness import Charger

Row = tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
NORMALLY_CLOSED = {"grid": True, "ac": False, "dc": False, "precharge": False, "v2l": False}


def built_machine() -> ModeLogic:
    return ModeLogic(parse_config({}), OutputPlan(NORMALLY_CLOSED))


def names(tr: Transition) -> set[str]:
    return {*tr.conditions, *tr.unless, *([tr.before] if tr.before else [])}


def built_rows(logic: ModeLogic, trigger: str) -> list[Row]:
    rows: list[Row] = []
    for source, built in logic.machine.events[trigger].transitions.items():
        for t in built:
            rows.append((trigger, source, t.dest,
                         tuple(c.func for c in t.conditions if c.target),
                         tuple(c.func for c in t.conditions if not c.target),
                         tuple(t.before)))
    return rows


def table_row(tr: Transition, source: str) -> Row:
    return (tr.trigger, source, tr.dest.value, tr.conditions, tr.unless,
            (tr.before,) if tr.before else ())


def test_every_guard_and_callback_named_in_the_table_is_a_method() -> None:
    logic = built_machine()
    for tr in TRANSITIONS:
        for name in names(tr):
            assert callable(getattr(logic, name, None)), f"{tr}: no method {name!r}"


def test_every_enter_callback_belongs_to_a_state() -> None:
    states = {s.value for s in State}
    callbacks = [n for n in dir(ModeLogic) if n.startswith("on_enter_")]
    assert callbacks
    for name in callbacks:
        assert name.removeprefix("on_enter_") in states, f"{name}: no such state"


def test_the_built_machine_is_the_table() -> None:
    """For every trigger and every source the machine knows, its transitions are the table's
    rows for that source (and the wildcard rows), in table order (the order ``transitions``
    tries them), with their guards and callback; every source the table names is built."""
    logic = built_machine()
    for trigger in {tr.trigger for tr in TRANSITIONS}:
        rows = [tr for tr in TRANSITIONS if tr.trigger == trigger]
        built = logic.machine.events[trigger].transitions
        for source in built:
            wanted = [table_row(tr, source) for tr in rows
                      if tr.source == ANY or State(tr.source).value == source]
            got = [row for row in built_rows(logic, trigger) if row[1] == source]
            assert got == wanted, (trigger, source)
        named = {State(tr.source).value for tr in rows if tr.source != ANY}
        assert named <= set(built), (trigger, named - set(built))


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_each_state_has_exactly_the_triggers_the_table_gives_it(state: State) -> None:
    logic = built_machine()
    lineage = {state} | {parent for parent, children in CHILDREN.items() if state in children}
    wanted = {tr.trigger for tr in TRANSITIONS
              if tr.source == ANY or State(tr.source) in lineage}
    if state in CHILDREN:
        pytest.skip("a parent state is never current: its first child is")
    assert set(logic.machine.get_triggers(state.value)) == wanted


# ----- pure guards ---------------------------------------------------------------------------
GUARDS = sorted({name for tr in TRANSITIONS for name in (*tr.conditions, *tr.unless)})


def fingerprint(logic: ModeLogic) -> dict[str, Any]:
    """The model's own state, timers included (not the library's machine or lookup caches)."""
    out: dict[str, Any] = {}
    for key, value in vars(logic).items():
        if key in ("machine", "_triggers", "_tick_guards", "config", "plan", "ctx"):
            continue
        out[key] = ("HeldFor", value.since) if isinstance(value, HeldFor) else (
            list(value) if isinstance(value, list) else value)
    out["plan"] = (dict(logic.plan.contactors), logic.plan.inverter_mode, logic.plan.sync_to_grid)
    return out


def check_guards_before_each_step(c: Charger, seen: set[str], impure: list[str]) -> None:
    """Before each ``tick`` trigger: every guard twice; a difference is noted (an assert here
    would only end in the tick's own error path)."""
    logic = c.sup.modes
    fire = logic.fire

    def checked_fire(trigger: str, reason: str = "", now: float | None = None) -> bool:
        if trigger != "tick":
            return fire(trigger, reason, now)
        before = fingerprint(logic)
        first = {name: getattr(logic, name)(None) for name in GUARDS}
        again = {name: getattr(logic, name)(None) for name in GUARDS}
        after = fingerprint(logic)
        if first != again or after != before:
            changed = sorted(k for k in before if before[k] != after.get(k))
            impure.append(f"{logic.state}: answers {first != again}, changed {changed}")
        seen.add(logic.state)
        return fire(trigger, reason, now)

    logic.fire = checked_fire  # type: ignore[method-assign]


def test_guards_are_pure_reads(make_charger: Callable[..., Charger]) -> None:
    """Before every step of a session (start sequence, charge, v2l with an overload, stops, a
    contactor test), each guard evaluated twice gives the same answer and changes nothing."""
    c = make_charger(plant=PlantParams(v2l_load_w=1000.0))
    seen: set[str] = set()
    impure: list[str] = []
    check_guards_before_each_step(c, seen, impure)
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    c.run(1.0)
    c.request("v2l")
    c.run_until(lambda: c.state is State.ENERGISED_V2L, limit_s=15.0)
    c.world.v2l_load_w = 4500.0  # above the outlet's rating: the overload timer runs
    c.run_until(lambda: c.state is State.EV_CONNECTED, limit_s=15.0)
    c.request("idle")
    # The CHAdeMO session ends (the vehicle opens, the output dies, the connector unlocks)
    # before the plug comes out: pulled while locked it would be EV_PROXIMITY_LOST.
    c.run_until(lambda: not c.world.ev_lock_engaged, limit_s=10.0)
    c.world.unplug_ev()
    c.run_until(lambda: c.state is State.IDLE, limit_s=5.0)
    accepted, why = c.sup.request_contactor_test("ac")
    assert accepted, why
    c.run_until(lambda: c.state is State.IDLE and c.sup.transitions[-1].source == "service_test",
                limit_s=5.0)
    assert not impure, impure[:5]
    for state in (State.STARTING_INSULATION_TEST, State.STARTING_EV_CLOSE,
                  State.STARTING_PRECHARGE, State.ENERGISED_V2L,
                  State.STOPPING_RAMP, State.STOPPING_WELD_CHECK, State.SERVICE_TEST):
        assert state.value in seen, (state, sorted(seen))
