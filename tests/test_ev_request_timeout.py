"""A vehicle that closes its contactors and never asks for current (issue 19, left open on the
chademo branch): the charger ends the session after ``ev.request_timeout_s`` (CHAdeMO: a
current request within 4 s of the contactors closing) with EV_REQUEST_TIMEOUT, instead of
holding the connector live at zero current for ever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ev_bench import EvBench, make_bench


@pytest.fixture
def bench() -> Iterator[EvBench]:
    made = make_bench()
    yield made
    made.close()


def test_a_car_that_never_asks_for_current_is_ev_request_timeout(bench: EvBench) -> None:
    bench.world.ev_car.faults.never_requests = True
    bench.charger.request("charge")
    bench.run_until(lambda: bench.world.ev_car.contactors_closed, limit_s=6.0)
    closed = bench.charger.now
    timeout = bench.charger.config.ev.request_timeout_s
    bench.run_until(lambda: "EV_REQUEST_TIMEOUT" in bench.trips(), limit_s=timeout + 1.0)
    took = bench.charger.now - closed
    assert timeout <= took <= timeout + 0.2, took  # + one 0x102 cycle (100 ms) and a tick
    bench.run_until(lambda: not bench.world.ev_car.contactors_closed, limit_s=6.0)
    bench.run_until(lambda: not bench.world.ev_lock_engaged, limit_s=6.0)
    assert not bench.world.contactors["dc"].closed
    assert not bench.violations, bench.violations
    assert not bench.world.truth.of_kind("ev_hot_open")


def test_a_car_that_asks_in_time_is_not_timed_out(bench: EvBench) -> None:
    bench.charger.request("charge")
    bench.run_until(lambda: bench.world.ev_car.contactors_closed, limit_s=6.0)
    bench.run(bench.charger.config.ev.request_timeout_s + 2.0)
    assert "EV_REQUEST_TIMEOUT" not in bench.trips()
    assert bench.world.battery.current_a > 5.0
