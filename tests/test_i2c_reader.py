"""The I2C reader (issue 20 item 1): one registration point for the tick's I2C reads, inline in
the simulator, a background thread at the edge on a Pi.

The background tests use a real thread but no sleeps: the jobs block on events the test sets,
so each step is ordered by the test, not by timing.
"""

from __future__ import annotations

import threading

import pytest

from hal.errors import SensorFault
from hal.i2c_reader import BACKGROUND, INLINE, I2cReader
from harness import Charger

WAIT_S = 5.0  # a bound for a broken reader (never reached when it works)


def test_inline_runs_every_joined_device_in_order_at_collect() -> None:
    seen: list[str] = []
    reader = I2cReader(lambda: 7.0, INLINE)
    reader.join("meter", lambda: seen.append("meter") or 1.5)
    reader.join("adc", lambda: seen.append("adc"))
    cycle = reader.collect()
    assert seen == ["meter", "adc"] and cycle.t == 7.0
    assert cycle.value("meter") == 1.5 and cycle.error("meter") is None


def test_a_device_problem_is_its_error_and_the_rest_still_read() -> None:
    def broken() -> None:
        raise SensorFault("ADS1115 on I2C sim address 0x48: NACK")

    reader = I2cReader(lambda: 0.0, INLINE)
    reader.join("adc", broken)
    reader.join("expander", lambda: 0x5A)
    cycle = reader.collect()
    assert cycle.error("adc") == "ADS1115 on I2C sim address 0x48: NACK"
    assert cycle.value("expander") == 0x5A


def test_a_name_joins_once() -> None:
    reader = I2cReader(lambda: 0.0)
    reader.join("meter", lambda: None)
    with pytest.raises(ValueError, match="twice"):
        reader.join("meter", lambda: None)


def test_background_hands_the_loop_the_previous_finished_cycle() -> None:
    """collect() never waits for the wire: it returns the newest finished cycle (none at the
    first tick) and starts the next one in the thread."""
    release = threading.Event()
    started = threading.Event()
    count = iter(range(100))

    def slow_read() -> int:
        started.set()
        assert release.wait(WAIT_S)
        release.clear()
        return next(count)

    clock = iter(float(i) for i in range(100))
    reader = I2cReader(lambda: next(clock), BACKGROUND)
    reader.join("meter", slow_read)
    try:
        first = reader.collect()  # starts cycle 0; nothing finished yet
        assert first.value("meter") is None and first.t == float("-inf")
        assert started.wait(WAIT_S)
        again = reader.collect()  # cycle 0 still on the wire: the same (empty) answer
        assert again is first
        started.clear()
        release.set()  # cycle 0 finishes; the token from the second collect starts cycle 1
        assert started.wait(WAIT_S)
        latest = reader.collect()
        assert latest.value("meter") == 0 and latest.t == 0.0
    finally:
        release.set()
        reader.close()


def test_the_simulator_reads_inline_so_the_snapshot_is_this_ticks_reading() -> None:
    c = Charger()
    assert c.hw.i2c.mode == INLINE
    c.run(0.1)
    snap = c.sup.last_snapshot
    assert snap is not None and snap.meter is not None
    assert snap.meter.t == snap.t  # read in this tick, not the one before
    assert c.hw.i2c.cycles == c.sup.ticks
    c.close()
