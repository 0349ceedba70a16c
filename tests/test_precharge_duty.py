"""The precharge resistor's duty (``controller/modes/precharge_duty.py``): a requester that
starts and stops the charger every few seconds gets at most ``sequence.precharge_max_starts``
precharges in any ``sequence.precharge_window_s``; the next start waits (told once, never
refused, nothing latched) and goes ahead by itself; a running mode and the machine's own cold
start for backup are never held. The duty survives a restart (seeded from the store)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.modes.precharge_duty import PrechargeDuty
from controller.modes.requests import Request
from controller.modes.states import DE_ENERGISED, State
from controller.store.precharge_log import KEEP, PrechargeLog
from controller.store.state_store import StateStore
from hal.sim.clock import DEFAULT_EPOCH
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


# ----- across a restart: the duty is seeded from the store (controller/store/precharge_log.py,
# controller/supervisor/duty_restart.py) --------------------------------------------------------

WINDOW_S = 120.0  # a short window keeps the restart tests quick (5 flaps take 50 s)
SHORT = {"sequence": {"precharge_window_s": WINDOW_S}}
PLANT = PlantParams(ev_soc_pct=50.0)
SEEDED = "precharge(s) of earlier runs within the last"


def _flap(c: Charger, times: int) -> None:
    for _ in range(times):
        c.request("charge", 2000.0)
        c.run(5.0)
        c.request("idle")
        c.run(5.0)


def _restart(first: Charger, make: Callable[..., Charger], after_s: float = 0.0,
             overrides: dict[str, Any] | None = None) -> Charger:
    """Stop ``first`` and start a new supervisor (a new process: new plant, new loop clock
    from 0) on the same store file, its wall clock ``after_s`` after the first one stopped."""
    wall_end = first.hw.clock.wall_time()
    first.close()
    return make(overrides or SHORT, plant=PLANT, store_path=first.config.store.path,
                start_epoch=wall_end + after_s)


def _events(c: Charger, text: str) -> list[str]:
    return [e.text for e in c.store.events(200) if text in e.text]


def _wait_for_energy(c: Charger, seconds: float) -> list[float]:
    """Ask for charge and run ``seconds``: the plant's K_PRE closings meanwhile."""
    closings: list[float] = []
    c.request("charge", 2000.0)
    _run_counting_k_pre(c, seconds, closings)
    return closings


def test_a_restart_keeps_the_duty_the_start_waits_and_begins_by_itself(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """Five precharges, then a crash and a restart (systemd): the new run's start waits for
    the oldest to age out, as the first run's would have."""
    first = make_charger(SHORT, plant=PLANT, store_path=str(tmp_path / "state.db"))
    _flap(first, 5)
    assert len(_precharges(first)) == 5
    oldest_wall = DEFAULT_EPOCH + _precharges(first)[0]
    second = _restart(first, make_charger)
    closings = _wait_for_energy(second, 5.0)
    # Waiting (was: the sixth precharge in 51 s began 1.6 s after the restart).
    assert second.state in DE_ENERGISED and not closings and not _precharges(second)
    assert len(_events(second, f"5 {SEEDED}")) == 1  # the controller's own record of it
    blocked = second.sup.status().blocked
    assert blocked is not None and COOLING in blocked
    ready = second.now + (oldest_wall + WINDOW_S - second.hw.clock.wall_time())
    second.run_until(lambda: second.state is State.ENERGISED_CHARGE, ready + 30.0 - second.now)
    assert ready <= _precharges(second)[0] < ready + EV_HANDSHAKE_S
    assert second.sup.blocked is None
    assert not second.sup.faults.codes and not second.sup.hot_opens


def test_precharges_older_than_the_window_are_not_seeded(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """One precharge, a long pause, four more; a restart counts only the four still within
    the window: one start goes ahead, the next waits."""
    first = make_charger(SHORT, plant=PLANT, store_path=str(tmp_path / "state.db"))
    _flap(first, 1)
    first.run(WINDOW_S - 20.0)
    _flap(first, 4)
    precharges = _precharges(first)
    assert len(precharges) == 5 and first.now - precharges[0] > WINDOW_S
    second = _restart(first, make_charger)
    assert len(_wait_for_energy(second, 5.0)) == 1  # the fifth of the window: at once
    second.request("idle")
    second.run(5.0)
    closings = _wait_for_energy(second, 5.0)
    assert not closings and second.sup.blocked is not None and COOLING in second.sup.blocked
    assert len(_events(second, f"4 {SEEDED}")) == 1


def test_a_wall_time_in_the_future_counts_as_now(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """The clock stepped back an hour (NTP, a dead RTC battery) between the runs: the stored
    precharges are "in the future" and count as now, so the start waits one window, no more."""
    first = make_charger(SHORT, plant=PLANT, store_path=str(tmp_path / "state.db"))
    _flap(first, 5)
    second = _restart(first, make_charger, after_s=-3600.0)
    assert not _wait_for_energy(second, 5.0)
    assert second.sup.blocked is not None and COOLING in second.sup.blocked
    assert len(_events(second, f"5 {SEEDED}")) == 1
    second.run_until(lambda: second.state is State.ENERGISED_CHARGE, WINDOW_S + 30.0)
    assert WINDOW_S <= _precharges(second)[0] < WINDOW_S + EV_HANDSHAKE_S


def test_stored_times_that_are_not_numbers_are_ignored_with_a_note(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """Rows edited by hand or written by a broken clock: NaN (kept as NULL), inf and text are
    ignored and said so; -inf is older than any window; the finite ones still count."""
    first = make_charger(SHORT, plant=PLANT, store_path=str(tmp_path / "state.db"))
    first.run(1.0)
    wall = first.hw.clock.wall_time()
    first.store.flush()
    hostile: list[object] = [math.nan, math.inf, -math.inf, "garbage"]
    with closing(sqlite3.connect(first.config.store.path)) as db, db:
        for value in [*hostile, *(wall - 10.0 * k for k in range(5))]:
            db.execute("INSERT INTO precharges (wall_time) VALUES (?)", (value,))
    second = _restart(first, make_charger)
    assert _events(second, SEEDED) == [
        f"precharge duty: 5 {SEEDED} 120 s counted; 3 stored wall time(s) ignored "
        "(not a finite number)"]
    assert not _wait_for_energy(second, 5.0)
    assert second.sup.blocked is not None and COOLING in second.sup.blocked


def test_a_store_whose_precharges_cannot_be_read_never_stops_the_start(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """A table of another shape (corrupted, or written by another version): one warning, an
    empty duty, the charger starts and works, and no store fault from the precharges it makes
    (recording is off for the run)."""
    first = make_charger(SHORT, plant=PLANT, store_path=str(tmp_path / "state.db"))
    _flap(first, 5)
    first.store.flush()
    with closing(sqlite3.connect(first.config.store.path)) as db, db:
        db.executescript("DROP TABLE precharges; CREATE TABLE precharges (x TEXT);")
    second = _restart(first, make_charger)
    warned = _events(second, "precharge duty: the store's precharges cannot be read")
    assert len(warned) == 1 and "no such column: wall_time" in warned[0], warned
    assert len(_wait_for_energy(second, 5.0)) == 1  # nothing held: an empty duty
    _flap(second, 2)
    second.run(1.0)
    assert second.sup.blocked is None
    assert not second.sup.faults.codes and not second.sup.hot_opens


def test_a_restart_never_holds_the_cold_start_for_backup(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """The duty spent before the restart: a request waits, the outage's cold start does not."""
    overrides = {"backup": {"from_idle": True},
                 "sequence": {"precharge_max_starts": 2, "precharge_window_s": WINDOW_S}}
    first = make_charger(overrides, plant=PLANT, store_path=str(tmp_path / "state.db"))
    _flap(first, 2)
    second = _restart(first, make_charger, overrides=overrides)
    assert not _wait_for_energy(second, 2.0)
    assert second.sup.blocked is not None and COOLING in second.sup.blocked
    second.world.outage()
    second.run_until(lambda: second.state is State.BACKUP_ISLAND, 10.0)
    assert len(_precharges(second)) == 1


def test_seeding_converts_wall_time_to_the_loop_clock() -> None:
    """The conversion and its hostile inputs, on the duty alone (window 100 s, 2 starts)."""
    duty = PrechargeDuty(2, 100.0)
    now, wall = 50.0, 1_000_000.0
    counted, ignored = duty.seed([wall - 100.0, wall - 99.0, wall - 30.0, wall + 500.0,
                                  math.nan, math.inf, -math.inf], now, wall)
    assert (counted, ignored) == (3, 3)  # exactly one window old no longer counts
    # The newest two decide: "now" (the future one) and 30 s ago (the 99 s one is dropped).
    assert duty.cooling(now) is not None and "t=120" in str(duty.cooling(now))
    assert duty.cooling(120.0) is None
    assert PrechargeDuty(2, 100.0).seed([wall], math.nan, wall) == (0, 1)


def test_the_store_keeps_a_bounded_number_of_precharges() -> None:
    """Never more than KEEP rows (the largest sequence.precharge_max_starts), whatever the
    history; the read is bounded by wall time as well."""
    store = StateStore(":memory:")
    try:
        log = PrechargeLog(store)
        assert log.recent(0.0) == []
        for k in range(KEEP + 50):
            assert log.record(1000.0 + k) is None
        rows = store.connection.execute("SELECT COUNT(*) FROM precharges").fetchone()[0]
        assert rows == KEEP
        assert log.recent(1000.0 + KEEP + 40) == [1000.0 + KEEP + 49 - k for k in range(10)]
    finally:
        store.close()
