"""The state store's writes stay out of the control tick, in order, and nothing committed is lost
(issue 15 item 12).

The E-stop tick made four fsync'd SQLite commits in the tick itself. Now the tick only queues
them and the store's writer thread commits (``controller/store/writer.py``). These tests use a
real SQLite file: a lock held by another connection stands for a disk that stalls (an SD card),
and a real child process is killed with SIGKILL while it writes.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from controller.modes.states import State
from controller.store.state_store import StateStore
from controller.store.writer import FLUSH_TIMEOUT_S, StoreWriter, Write
from harness import Charger

ROOT = Path(__file__).resolve().parent.parent
KILLS = 12  # each kill is a real child process (~0.5 s): the shared machine sets the count
SEED = 15


def test_the_estop_tick_does_not_wait_for_the_disk(make_charger: Callable[..., Charger],
                                                   tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    c = make_charger(store_path=str(path))
    c.run(0.2)
    c.store.flush()
    stall = sqlite3.connect(path, isolation_level=None)
    stall.execute("BEGIN IMMEDIATE")  # the disk "stalls": nobody else can write now
    try:
        c.world.press_estop()
        c.hw.clock.sleep_until(c.now + 0.005)
        c.sup.tick()
        # The tick completed its safety work and its records without waiting for the disk.
        assert c.state is State.ESTOP
        assert c.sup.faults.handler_failures == []
        assert not any(ct.coil_energised for ct in c.hw.contactors.values())  # type: ignore[attr-defined]
        # The console's reads (in the loop's thread) are answered from memory, not the disk.
        assert c.store.writer.durable < c.store.writer.submitted  # still queued
        assert any(e.text.startswith("ESTOP: ") for e in c.store.events(20))
        assert [f.code for f in c.store.active_faults()] == ["ESTOP"]
    finally:
        stall.execute("ROLLBACK")
        stall.close()
    # Once the disk is back, every record of that tick is committed, in order.
    assert c.store.flush()
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT code FROM latched_faults WHERE active = 1").fetchall() == [
            ("ESTOP",)]
        texts = [t for (t,) in db.execute("SELECT text FROM events ORDER BY id")]
        assert db.execute("SELECT count FROM fault_counters WHERE code = 'ESTOP'").fetchone() == (
            1,)
    finally:
        db.close()
    trip = next(i for i, t in enumerate(texts) if t.startswith("ESTOP: "))
    assert any("-> estop" in t for t in texts[trip:]), texts


def test_close_commits_everything_queued_and_a_restart_sees_it(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    store = StateStore(path)
    for n in range(200):
        store.record_event(float(n), 0.0, "test", f"event {n}")
    store.latch_fault("ESTOP", "pressed", 1.0)
    store.close()
    again = StateStore(path)
    try:
        assert [f.code for f in again.active_faults()] == ["ESTOP"]
        assert [e.text for e in again.events(200)] == [f"event {n}" for n in range(200)]
        again.record_event(300.0, 0.0, "test", "this run")  # memory after the earlier runs
        assert [e.text for e in again.events(3)] == ["event 198", "event 199", "this run"]
        assert [e.text for e in again.events(1)] == ["this run"]
        assert again.clear_faults(2.0) == 1
        assert again.active_faults() == []
    finally:
        again.close()


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from controller.store.state_store import StateStore
    store = StateStore({path!r})
    n = 0
    while True:
        store.record_event(float(n), time.time(), "trip", f"TEST: run{run} {{n}}")
        store.latch_fault("ESTOP", f"run{run} {{n}}", time.time())
        if n % 3 == 0:
            store.flush()  # everything up to n is committed now: say so
            print(n, flush=True)
        n += 1
""")


def test_kill_9_loses_no_committed_latched_fault_and_corrupts_nothing(tmp_path: Path) -> None:
    """SIGKILL a real process at random moments while it latches faults as fast as it can;
    every fault it had seen committed is still there after each kill, the faults present are
    a gap-free prefix (committed in order), and SQLite's integrity check passes."""
    rng = random.Random(SEED)
    path = str(tmp_path / "state.sqlite")
    for run in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT), path=path, run=run)],
            stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        committed = -1
        for _ in range(rng.randint(1, 40)):
            line = proc.stdout.readline()
            assert line, "the child stopped writing"
            committed = int(line)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            faults = [int(d.split()[1]) for (d,) in db.execute(
                "SELECT detail FROM latched_faults WHERE active = 1 AND detail LIKE ? "
                "ORDER BY id", (f"run{run} %",))]
            events = [int(t.split()[2]) for (t,) in db.execute(
                "SELECT text FROM events WHERE kind = 'trip' AND text LIKE ? ORDER BY id",
                (f"TEST: run{run} %",))]
        finally:
            db.close()
        assert faults == list(range(len(faults))), f"run {run}: a gap or a reordering"
        assert events == list(range(len(events))), f"run {run}: a gap or a reordering"
        assert committed <= len(faults) - 1, (run, committed, len(faults))


TICKS_AT_REST = 3000  # a minute of the daemon's 50 Hz loop with nothing to record


def _writer_with_table(tmp_path: Path) -> StoreWriter:
    path = str(tmp_path / "idle.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
    db.close()
    return StoreWriter(path)


def test_a_daemon_at_rest_never_wakes_the_store_writer(tmp_path: Path) -> None:
    """The loop releases the writer after every tick; with nothing queued that must not wake
    its thread (50 wake-ups a second on the Pi, each a context switch, for nothing). Before
    the fix every release notified it and it also woke every MAX_HOLD_S on its own."""
    writer = _writer_with_table(tmp_path)
    try:
        for _ in range(TICKS_AT_REST):
            writer.release()
            os.sched_yield()  # the loop waits for its next tick: other threads may run
        assert writer.wakes == 0
        writer.submit(Write("INSERT INTO t VALUES (?)", (1,)))
        writer.release()  # the tick that made a record
        assert writer.flush()
        assert (writer.wakes, writer.durable) == (1, 1)
    finally:
        writer.close()


def test_a_record_made_outside_the_ticks_is_committed_without_a_release(tmp_path: Path) -> None:
    """No loop releases it (a console command while the loop is stopped): the writer holds it
    at most MAX_HOLD_S, then commits it on its own."""
    writer = _writer_with_table(tmp_path)
    try:
        writer.submit(Write("INSERT INTO t VALUES (?)", (2,)))
        with writer._cond:  # the writer's own condition: no polling, no sleep
            assert writer._cond.wait_for(lambda: writer.durable >= 1, FLUSH_TIMEOUT_S)
        assert writer.wakes == 1
    finally:
        writer.close()
