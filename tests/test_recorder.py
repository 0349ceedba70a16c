"""A failing state store never escapes the loop and never blocks the safe state (issue 18
item 2): ``tick()`` truly never raises, and the failure is itself a fault, STORE_WRITE_FAILED.

The store here fails for real: its writer thread is closed, so every write the tick makes
(events, a latched fault, a fault counter) raises ``RuntimeError`` the way a store that can no
longer write does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from controller.modes.states import LATCHED, State
from harness import Charger


def charging(make_charger: Callable[..., Charger], tmp_path: Path) -> Charger:
    c = make_charger(store_path=str(tmp_path / "state.db"))
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=8.0)
    c.run(2.0)
    return c


def test_a_store_that_raises_is_a_fault_and_the_charger_stops_safely(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    c = charging(make_charger, tmp_path)
    c.store.writer.close()  # from now on every write raises
    c.request("charge", 2000.0)  # an event to write (nothing is written while nothing happens)
    for _ in range(int(10.0 / c.config.control.tick_s)):
        c.sup.tick()  # never raises
        c.hw.clock.sleep_until(c.now + c.config.control.tick_s)
    assert "STORE_WRITE_FAILED" in c.sup.status().faults
    assert c.state in LATCHED  # a graceful stop (ramp down, open), then fault
    assert not any(c.world.contactor_closed(n) for n in ("dc", "ac", "precharge", "v2l"))
    assert c.world.inverter.ac_power_w == 0.0
    assert not c.world.truth.of_kind("hot_open")  # ramped down first: no hot open
    assert c.sup.trip_log[-1].function == "STORE_WRITE_FAILED"


def test_an_error_in_the_tick_with_a_failing_store_still_ends_safe(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    """The internal-error path itself writes to the store (the latch, the event): with the
    store failing too, ``tick()`` still returns and every output is dropped in that tick."""
    c = charging(make_charger, tmp_path)
    c.store.writer.close()

    def broken(reading: Any) -> Any:
        raise ZeroDivisionError("estimator bug")

    c.sup.estimator.update = broken  # type: ignore[method-assign]
    c.sup.tick()  # never raises
    assert c.state is State.FAULT
    assert "INTERNAL_ERROR" in c.sup.status().faults
    assert not any(ct.coil_energised for ct in c.hw.contactors.values())  # type: ignore[attr-defined]
    c.hw.clock.sleep_until(c.now + 0.2)
    assert not any(c.world.contactor_closed(n) for n in ("dc", "ac", "precharge", "v2l"))


def test_events_wait_while_the_store_fails_and_are_written_in_order_after(
        make_charger: Callable[..., Charger]) -> None:
    """A flush that fails keeps the tick's events for the next one: nothing is lost."""
    c = make_charger()
    store = c.store
    real = store.record_event
    failing = {"on": True}

    def record_event(t: float, wall_time: float, kind: str, text: str) -> None:
        if failing["on"]:
            raise OSError("disk I/O error")
        real(t, wall_time, kind, text)

    store.record_event = record_event  # type: ignore[method-assign]
    c.request("charge", 3000.0)
    c.run(1.0)
    assert c.sup.recorder.failure is not None
    failing["on"] = False
    c.run(0.1)
    texts = [e.text for e in store.events(500)]
    assert any("charge" in t and "user" in t for t in texts)  # the claim made while failing
    assert "STORE_WRITE_FAILED" in c.sup.status().faults
