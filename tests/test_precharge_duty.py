"""The precharge resistor's duty (``controller/modes/precharge_duty.py``): a requester that
starts and stops the charger every few seconds gets at most ``sequence.precharge_max_starts``
precharges in any ``sequence.precharge_window_s``; the next start waits (told once, never
refused, nothing latched) and goes ahead by itself; a running mode and the machine's own cold
start for backup are never held."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.modes.precharge_duty import PrechargeDuty
from controller.modes.requests import Request
from controller.modes.states import DE_ENERGISED, State
from hal.sim.params import PlantParams
from harness import Charger

FLAPS = 12  # charge for 5 s, idle for 5 s: a flapping home automation for two minutes
COOLING = "the precharge resistor is cooling"
EV_HANDSHAKE_S = 3.0  # the EV session (d1, parameters, permission, lock) before a precharge


@pytest.fixture
def charger() -> Iterator[Charger]:
    c = Charger(plant=PlantParams(ev_soc_pct=50.0))
    yield c
    c.close()


def _precharges(c: Charger) -> list[float]:
    """The controller's own record: when the machine began each precharge."""
    return [t.t for t in c.sup.transitions if t.dest == State.STARTING_PRECHARGE.value]


def _run_counting_k_pre(c: Charger, seconds: float, closings: list[float]) -> None:
    """Run, noting each time the plant's precharge contactor closes (plant truth)."""
    was = [c.world.contactor_closed("precharge")]

    def look(_sup: object) -> None:
        now = c.world.contactor_closed("precharge")
        if now and not was[0]:
            closings.append(c.now)
        was[0] = now
    c.sup.run(duration_s=seconds, on_tick=look)


def test_a_flapping_requester_gets_the_duty_then_waits_and_starts_by_itself(
        charger: Charger) -> None:
    seq = charger.config.sequence
    closings: list[float] = []
    for _ in range(FLAPS):
        charger.request("charge", 2000.0)
        _run_counting_k_pre(charger, 5.0, closings)
        charger.request("idle")
        _run_counting_k_pre(charger, 5.0, closings)
    assert len(_precharges(charger)) == seq.precharge_max_starts  # was one per flap (12)
    assert len(closings) == seq.precharge_max_starts, closings  # the plant agrees: K_PRE
    asked = charger.now
    charger.request("charge", 2000.0)
    charger.run(5.0)
    # Waiting: de-energised, no EV session begun for it, the requester told why.
    assert charger.state in DE_ENERGISED
    assert charger.sup.blocked is not None and COOLING in charger.sup.blocked
    assert charger.sup.status().ev_phase == "plugged"  # no d1, no handshake, nothing locked
    ready = _precharges(charger)[0] + seq.precharge_window_s
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, ready + 30.0 - charger.now)
    # By itself, as soon as allowed (after the EV session's handshake, ~1.5 s here).
    assert ready <= _precharges(charger)[-1] < ready + EV_HANDSHAKE_S
    assert charger.sup.blocked is None
    waiting = [e.text for e in charger.store.events(200) if COOLING in e.text and e.t >= asked]
    assert len(waiting) == 1, waiting  # told once while it waited, not every tick
    assert not charger.sup.faults.codes and not charger.sup.hot_opens


def test_a_running_mode_is_never_stopped_by_the_duty(charger: Charger) -> None:
    """The last start the duty allows runs as long as it is wanted; a mode change that needs a
    new precharge then waits."""
    for _ in range(charger.config.sequence.precharge_max_starts - 1):
        charger.request("charge", 2000.0)
        charger.run(5.0)
        charger.request("idle")
        charger.run(5.0)
    charger.request("charge", 2000.0)
    charger.run(120.0)
    assert charger.state is State.ENERGISED_CHARGE
    assert charger.sup.blocked is None


def test_an_outage_still_starts_backup_when_the_duty_is_spent() -> None:
    """The machine's own cold start for backup is not a request: never held (its precharge
    counts)."""
    c = Charger({"backup": {"from_idle": True},
                 "sequence": {"precharge_max_starts": 2}}, plant=PlantParams(ev_soc_pct=60.0))
    try:
        for _ in range(3):
            c.request("charge", 2000.0)
            c.run(5.0)
            c.request("idle")
            c.run(5.0)
        assert len(_precharges(c)) == 2
        c.request("charge", 2000.0)
        c.run(2.0)
        assert c.sup.blocked is not None and COOLING in c.sup.blocked
        c.world.outage()
        c.run_until(lambda: c.state is State.BACKUP_ISLAND, 10.0)
        assert len(_precharges(c)) == 3
    finally:
        c.close()


@pytest.mark.parametrize(("key", "value"), [
    ("precharge_max_starts", 0), ("precharge_max_starts", 1000),
    ("precharge_window_s", float("nan")), ("precharge_window_s", float("inf")),
    ("precharge_window_s", -5.0), ("precharge_window_s", 1e9)])
def test_hostile_duty_settings_are_refused_naming_the_key(key: str, value: float) -> None:
    with pytest.raises(Exception, match=f"sequence.{key}"):
        Charger({"sequence": {key: value}})


@settings(max_examples=100)
@given(st.integers(1, 6), st.floats(10.0, 1000.0),
       st.lists(st.floats(0.0, 5000.0), min_size=0, max_size=40))
def test_never_more_than_the_duty_in_any_window(max_starts: int, window_s: float,
                                                asks: list[float]) -> None:
    """Whatever the times at which starts are asked for, the starts the duty lets through
    never number more than ``max_starts`` in any window."""
    duty = PrechargeDuty(max_starts, window_s)
    started: list[float] = []
    for t in sorted(asks):
        held, why = duty.hold(Request("charge"), State.EV_CONNECTED, t)
        if why is None:
            assert held.mode == "charge"
            duty.record(t)
            started.append(t)
        else:
            assert held.mode == "idle" and str(max_starts) in why
    for t in started:
        assert sum(1 for s in started if t <= s < t + window_s) <= max_starts
    # Idle requests and states that start nothing pass untouched.
    assert duty.hold(Request("idle"), State.EV_CONNECTED, 0.0) == (Request("idle"), None)
    assert duty.hold(Request("charge"), State.ENERGISED_CHARGE, 0.0)[1] is None
