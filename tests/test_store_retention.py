"""The state database stays bounded whatever the event rate, and never loses an active fault.

The event log, the cleared latched faults, the console audit and the calibration history grew
without bound (append-only tables): on an SD card that ends in a full disk and
``STORE_WRITE_FAILED``, a STOP. Each now keeps its newest rows up to ``[store]`` limits
(``controller/store/retention.py``). Every test here counts rows in a real SQLite file (tmp_path)
as the product writes it, through its write queue.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from controller.cli.main import main
from controller.config import load_config
from controller.measurement.calibration import ReferencePoint, calibrate
from controller.modes.states import LATCHED
from controller.store.audit_store import AuditStore
from controller.store.calibration_store import CalibrationStore
from controller.store.retention import Retention, prune_interval
from controller.store.state_store import RECENT_EVENTS, StateStore
from harness import Charger

WHEN = datetime(2026, 12, 4, 17, 0)
METER = "Fluke 87V s/n 4711"
SMALL = Retention(events=1000, cleared_faults=100, audit=1000, calibrations=10)


def rows(path: Path | str, table: str, where: str = "1") -> int:
    db = sqlite3.connect(path)
    try:
        count: int = db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}").fetchone()[0]
        return count
    finally:
        db.close()


def texts(path: Path | str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [t for (t,) in db.execute("SELECT text FROM events ORDER BY id")]
    finally:
        db.close()


def bound(keep: int) -> int:
    """The most rows a table trimmed every :func:`prune_interval` inserts ever holds."""
    return keep + prune_interval(keep) - 1


def test_a_burst_of_events_stays_bounded_at_the_configured_limit(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    config = load_config(f'[hal]\nbackend = "sim"\n[store]\npath = "{path}"\n'
                         "keep_events = 1000\n")
    store = StateStore.from_settings(config.store)
    for n in range(5000):  # a flapping fault's rate: far more than the limit
        store.record_event(float(n), 0.0, "test", f"event {n}")
        if n % 97 == 0:
            assert store.flush()
            assert rows(path, "events") <= bound(1000)
    store.close()
    kept = texts(path)
    assert len(kept) <= bound(1000)
    assert kept == [f"event {n}" for n in range(5000 - len(kept), 5000)]  # the newest, in order


def test_the_tick_never_waits_for_a_trim(tmp_path: Path) -> None:
    """With the disk stalled (another connection holds the write lock), records and their trims
    are only queued: a trim run on the caller's connection would wait for the lock and fail."""
    path = tmp_path / "state.db"
    store = StateStore(str(path), SMALL)
    assert store.flush()
    stall = sqlite3.connect(path, isolation_level=None)
    stall.execute("BEGIN IMMEDIATE")
    try:
        for n in range(3000):
            store.record_event(float(n), 0.0, "test", f"event {n}")
        assert store.writer.durable < store.writer.submitted  # all of it still queued
        assert [e.text for e in store.events(2)] == ["event 2998", "event 2999"]  # from memory
    finally:
        stall.execute("ROLLBACK")
        stall.close()
    assert store.flush()
    assert rows(path, "events") <= bound(SMALL.events)
    store.close()


def test_a_memory_store_trims_at_once() -> None:
    store = StateStore(":memory:", SMALL)
    for n in range(3000):
        store.record_event(float(n), 0.0, "test", f"event {n}")
    count = store.connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert SMALL.events <= count <= bound(SMALL.events)
    store.close()


def test_a_restart_keeps_the_active_fault_with_a_full_event_log(
        make_charger: Callable[..., Charger], tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    limits = {"store": {"keep_events": 1000, "keep_cleared_faults": 100}}
    first = make_charger(limits, store_path=db)
    first.world.press_estop()
    first.run(0.5)
    first.world.release_estop()
    for n in range(3000):  # the log fills past its limit after the latch
        first.store.record_event(first.now, 0.0, "test", f"filler {n}")
    first.run(0.5)
    first.close()
    assert rows(db, "latched_faults", "active = 1 AND code = 'ESTOP'") == 1
    second = make_charger(limits, store_path=db)
    second.run(0.5)
    assert "ESTOP" in second.sup.status().faults
    assert second.state in LATCHED
    second.close()
    assert rows(db, "events") <= bound(1000)
    assert rows(db, "latched_faults", "active = 1 AND code = 'ESTOP'") == 1


def _old_database(path: Path) -> None:
    """A database as the store wrote it before retention: more rows than any limit, and the
    active faults the oldest rows of their table (latched long ago, never reset)."""
    store = StateStore(str(path), Retention(10**6, 10**6, 10**6, 10**6))
    store.latch_fault("CONTACTOR_WELDED", "dc welded", 1.0)
    store.latch_fault("ESTOP", "pressed", 2.0)
    for n in range(300):  # cleared after the active ones were latched: 2 clears of 150 each
        store.submit("INSERT INTO latched_faults (code, detail, wall_time, active, "
                     "cleared_wall_time) VALUES ('METER_LOST', ?, ?, 0, ?)",
                     (f"lost {n}", float(n), float(n) + 1.0))
    for n in range(3000):
        store.record_event(float(n), 0.0, "test", f"event {n}")
    audit = AuditStore(store.connection, 10**6)
    for n in range(2500):
        audit.record(float(n), 0.0, "/dev/ttyGS0", "operator", f"mode charge {n}", "ok")
    cals = CalibrationStore(store)
    cals.save(calibrate("meter.pv_power", [ReferencePoint(1000.0, 990.0)], METER, WHEN))
    for n in range(40):  # the newest voltage row is a clear, the newest current row a save
        cals.save(calibrate("meter.voltage", [ReferencePoint(240.0, 238.0 + n / 40)], METER,
                            WHEN))
        cals.save(calibrate("meter.grid_current", [ReferencePoint(10.0, 9.9)], METER, WHEN))
    cals.clear("meter.voltage", WHEN.isoformat())
    store.close()


def test_an_old_database_is_trimmed_at_start_up_without_losing_an_active_fault(
        tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _old_database(path)
    untrimmed = StateStore(str(path), Retention(10**6, 10**6, 10**6, 10**6))
    before = CalibrationStore(untrimmed).load().calibrations.channels
    untrimmed.close()
    store = StateStore(str(path), SMALL)
    assert [f.code for f in store.active_faults()] == ["CONTACTOR_WELDED", "ESTOP"]
    AuditStore(store.connection, 1000)
    after = CalibrationStore(store).load().calibrations.channels
    assert store.flush()
    store.close()
    assert rows(path, "events") == 1000  # the start-up trim: exactly the limit
    assert texts(path)[0] == "event 2000"
    assert rows(path, "latched_faults", "active = 0") == 100
    assert rows(path, "latched_faults", "active = 1") == 2
    assert rows(path, "console_audit") == 1000
    # Every channel's newest row is kept (pv_power's is the table's oldest), so what is in
    # force is unchanged; of the rest, the newest 10 rows remain.
    assert after == before
    assert set(after) == {"meter.pv_power", "meter.grid_current"}
    assert rows(path, "calibrations") <= 10 + 3


def test_v2xctl_log_and_faults_read_a_trimmed_database(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.db"
    _old_database(path)
    StateStore(str(path), SMALL).close()  # trimmed at start-up
    assert main(["log", "--db", str(path), "--json", "--limit", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["text"] for e in data["events"]] == ["event 2997", "event 2998", "event 2999"]
    assert [a["command"] for a in data["audit"]] == [f"mode charge {n}" for n in (2497, 2498,
                                                                                2499)]
    assert main(["faults", "--db", str(path), "--json"]) == 0
    faults = json.loads(capsys.readouterr().out)["faults"]
    assert [f["code"] for f in faults] == ["CONTACTOR_WELDED", "ESTOP"]


def test_the_audit_log_stays_bounded(tmp_path: Path) -> None:
    """A console script writes as fast as it can: the audit keeps its newest rows."""
    path = tmp_path / "state.db"
    store = StateStore(str(path), SMALL)
    audit = AuditStore(store.connection, SMALL.audit)
    for n in range(4000):
        audit.record(float(n), 0.0, "/dev/ttyGS0", "operator", f"power {n}", "ok")
        if n % 499 == 0:
            assert rows(path, "console_audit") <= bound(SMALL.audit)
    assert audit.entries(2)[-1].command == "power 3999"
    store.close()
    assert rows(path, "console_audit") <= bound(SMALL.audit)


def test_calibration_history_is_bounded_and_the_one_in_force_kept(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path / "state.db"), SMALL)
    cals = CalibrationStore(store)
    first = calibrate("meter.pv_power", [ReferencePoint(1000.0, 995.0)], METER, WHEN)
    cals.save(first)
    for n in range(100):
        cals.save(calibrate("meter.voltage", [ReferencePoint(240.0, 239.0 + n / 100)], METER,
                            WHEN))
    loaded = cals.load().calibrations
    assert loaded.get("meter.pv_power") == first  # saved first, still in force
    assert loaded.get("meter.voltage") is not None
    assert loaded.get("meter.voltage") == cals.history("meter.voltage")[-1]
    count = store.connection.execute("SELECT COUNT(*) FROM calibrations").fetchone()[0]
    assert count <= SMALL.calibrations + 2  # the history, and each channel's newest
    store.close()


def test_events_reads_stay_right_when_older_rows_are_trimmed(tmp_path: Path) -> None:
    """``events()``: this run's from memory, earlier runs' from the database; a trim (queued,
    committed or not yet) never takes one of the newest ``keep`` it returns."""
    path = str(tmp_path / "state.db")
    keep = Retention(events=1000, cleared_faults=100, audit=1000, calibrations=10)
    earlier = StateStore(path, keep)
    for n in range(1500):
        earlier.record_event(float(n), 0.0, "earlier", f"earlier {n}")
    earlier.close()
    store = StateStore(path, keep)  # its start-up trim is queued, maybe not committed yet
    for n in range(300):
        store.record_event(float(n), 0.0, "now", f"now {n}")
    newest = [f"earlier {n}" for n in range(800, 1500)] + [f"now {n}" for n in range(300)]
    assert [e.text for e in store.events(5000)] == newest  # capped at the limit
    assert [e.text for e in store.events(400)] == newest[-400:]
    assert store.flush()
    assert [e.text for e in store.events(5000)] == newest
    store.close()
    # This run beyond what memory keeps: read from the database, the newest ``keep``.
    big = Retention(events=RECENT_EVENTS + 500, cleared_faults=100, audit=1000, calibrations=10)
    store = StateStore(path, big)
    for n in range(3000):
        store.record_event(float(n), 0.0, "now", f"again {n}")
    assert [e.text for e in store.events(RECENT_EVENTS + 200)] == [
        f"again {n}" for n in range(3000 - RECENT_EVENTS - 200, 3000)]
    assert [e.text for e in store.events(10**6)] == [
        f"again {n}" for n in range(3000 - big.events, 3000)]
    store.close()


# --- the property: random latch / clear / record / audit / restart on a real file ------------

CODES = ("ESTOP", "METER_LOST", "SENSOR_STALE", "CONTACTOR_WELDED")
LATCH = st.tuples(st.just("latch"), st.sampled_from(CODES))
OPS = st.one_of(  # latches 3 times as likely: more active faults than the limit, often
    LATCH, LATCH, LATCH,
    st.tuples(st.just("clear"), st.just(0)),
    st.tuples(st.just("record"), st.integers(1, 150)),
    st.tuples(st.just("audit"), st.integers(1, 60)),
    st.tuples(st.just("restart"), st.just(0)),
)


@example(keep_events=1, keep_cleared=1, keep_audit=1,  # more active faults than the limit
         ops=[("latch", "ESTOP"), ("latch", "METER_LOST"), ("restart", 0)])
@given(keep_events=st.integers(1, 250), keep_cleared=st.integers(1, 3),
       keep_audit=st.integers(1, 40), ops=st.lists(OPS, min_size=3, max_size=30))
def test_active_faults_survive_any_sequence_and_every_table_stays_bounded(
        keep_events: int, keep_cleared: int, keep_audit: int,
        ops: list[tuple[str, int | str]]) -> None:
    retention = Retention(events=keep_events, cleared_faults=keep_cleared, audit=keep_audit,
                          calibrations=10)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "state.db")
        store = StateStore(path, retention)
        audit = AuditStore(store.connection, keep_audit)
        latched: list[str] = []  # latched since the last clear, in order
        cleared_bound = keep_cleared
        recorded = 0
        for op, arg in ops:
            if op == "latch":
                store.latch_fault(str(arg), "detail", 1.0)
                latched.append(str(arg))
            elif op == "clear":
                cleared_bound = max(keep_cleared, len(latched))
                assert store.clear_faults(2.0) == len(latched)
                latched = []
            elif op == "record":
                for _ in range(int(arg)):
                    store.record_event(0.0, 0.0, "test", f"event {recorded}")
                    recorded += 1
            elif op == "audit":
                assert store.flush()  # the audit writes on the store's own connection
                for _ in range(int(arg)):
                    audit.record(0.0, 0.0, "port", "operator", "mode charge", "ok")
            else:
                if len(latched) > keep_cleared:
                    event("a restart with more active faults than cleared ones are kept")
                store.close()
                store = StateStore(path, retention)
                audit = AuditStore(store.connection, keep_audit)
                assert [f.code for f in store.active_faults()] == latched
            assert store.flush()
            assert rows(path, "events") <= bound(keep_events)
            assert rows(path, "latched_faults", "active = 0") <= cleared_bound
            assert rows(path, "latched_faults", "active = 1") == len(latched)
            assert rows(path, "console_audit") <= bound(keep_audit)
        store.close()
        again = StateStore(path, retention)
        assert [f.code for f in again.active_faults()] == latched
        kept = texts(path)
        assert kept == [f"event {n}" for n in range(recorded - len(kept), recorded)]
        assert len(kept) >= min(recorded, keep_events)  # trimmed to the limit, never below
        again.close()
