"""Loop overrun on the real clock (issue 15 item 12).

The overrun was measured on the loop clock only: on the simulator that is virtual time, which a
slow tick does not advance, so ``LOOP_OVERRUN`` could never fire under ``v2xctl run`` while a
CAN flood cost up to 29 ms of real time per tick. The supervisor now also times each tick on an
injected work clock (``time.monotonic`` by default); here a fake one stands for the real time a
tick's work costs, so the test is deterministic (no wall-clock assertion).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from controller.modes.states import State
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from harness import Charger


def test_a_tick_whose_work_takes_too_long_in_real_time_latches_loop_overrun(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    kicks = c.sup.kicks
    limit = c.config.safety.loop.max_tick_s
    c.work.step_s = 0.6 * limit  # within the limit: nothing happens
    c.run(0.1)
    assert c.state is State.ENERGISED_CHARGE and c.sup.healthy
    assert c.sup.kicks > kicks
    c.work.step_s = 1.5 * limit  # the virtual clock does not move faster: only real time does
    c.sup.tick()
    c.work.step_s = 0.0
    assert c.sup.last_tick_s == 1.5 * limit
    assert not c.sup.healthy
    assert c.state is State.FAULT
    assert c.sup.trip_log[-1].function == "LOOP_OVERRUN"
    assert "LOOP_OVERRUN" in {f.code for f in c.store.active_faults()}
    # Everything was forced safe in that tick: coils dropped, the inverter told off.
    assert not any(ct.coil_energised for ct in c.hw.contactors.values())  # type: ignore[attr-defined]
    assert c.sup.last_dispatch is not None


def test_the_daemon_times_ticks_on_the_monotonic_clock(
        make_charger: Callable[..., Charger], monkeypatch: pytest.MonkeyPatch) -> None:
    """``v2xctl run`` builds its supervisor without a work clock: ``time.monotonic`` times its
    ticks. Here that clock runs a second per reading: the first tick overruns."""
    c = make_charger()
    readings = iter(range(1_000_000))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(readings)))
    sup = Supervisor(c.config, c.hw, StateStore(":memory:"))
    sup.tick()
    monkeypatch.undo()
    assert sup.last_tick_s >= 1.0
    assert "LOOP_OVERRUN" in sup.status().faults
