"""The state database's size on disk: bytes per row, and the bounded file at the default limits.

Run with ``./dev bench`` (or ``.venv/bin/python bench/store_size.py``). Prints figures; nothing
here is a pass/fail test (``tests/test_store_retention.py`` checks the bounds). The rows are
written through the product's own classes (``StateStore``, ``AuditStore``) into SQLite files in
a temporary directory; sizes are SQLite's pages (page_count x page_size) after the write-ahead
log is checkpointed at close, which is what the file holds.

The event texts are a fixed mix of real ones, with their kinds' shares, taken from the event
logs of the scenarios in ``scenarios/`` (596 events, 74 characters of kind and text on average,
start-up lines included: a charger starts once a day at most, so the mix is on the long side).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.store.audit_store import AuditStore
from controller.store.retention import DEFAULT_RETENTION, Retention
from controller.store.state_store import StateStore

SAMPLE_ROWS = 20_000  # rows per table for the bytes-per-row figure
UNTRIMMED = Retention(events=SAMPLE_ROWS, cleared_faults=SAMPLE_ROWS, audit=SAMPLE_ROWS,
                      calibrations=SAMPLE_ROWS)  # limits the sample never reaches
FILL_FACTOR = 2  # the bounded file: this many times each limit written
EVENTS_PER_DAY = 151  # the realistic simulated day (docs/performance.md)
RELEASE_EVERY = 50  # records per writer batch (the loop releases the writer after each tick)

# (kind, a text of the kind's typical length, how many of the 596 sampled events were that kind)
EVENT_MIX: tuple[tuple[str, str, int], ...] = (
    ("state", "energised_charge -> fault on trip (CONTACTOR_FEEDBACK)", 224),
    ("ev", "EV session exchange -> permission", 197),
    ("waiting", "charge requested by user cannot start: the grid is not normal (entering "
                "service: grid inside the window for 10 of 300 s)", 43),
    ("winner", "mode v2h (won by schedule)", 40),
    ("request", "safety releases its claim: released", 33),
    ("start", "controller started on built-in simulated charger (sim backend: plant physics, "
              "ADE7953/ADS1115 register models, inverter and EV on python-can virtual buses)",
     15),
    ("settings", "inverter settings to write: " + ", ".join(
        f"setting_{n}=0.{n} p.u." for n in range(24)), 15),
    ("trip", "SENSOR_STALE: dc_link_v older than 1.0 s - check the I2C bus load and the sensor "
             "named in the detail [emergency, from monitor, clear: operator; automatic retry 1 "
             "of 3 at t = 27.0 s at the earliest, once the cause has been seen gone for 10 s]",
     14),
    ("reset", "reset refused: still present: METER_IMPLAUSIBLE", 7),
    ("hot_open", "K_DC commanded open at 28.8 A (limit 2.0 A) in estop, an emergency: E-stop "
                 "loop open", 4),
    ("refusal", "v2l stopped for user: V2L overload: the outlet drew more than 3600 W for 2.0 s; "
                "unplug a load and ask again", 2),
    ("stop", "graceful stop for POWER_IMPLAUSIBLE: ramping down", 1),
    ("retry", "automatic retry: METER_LOST cleared after the back-off", 1),
)
EVENTS: tuple[tuple[str, str], ...] = tuple(
    (kind, text) for kind, text, share in EVENT_MIX for _ in range(share))
FAULTS = (("SENSOR_STALE", "dc_link_v older than 1.0 s"),
          ("METER_IMPLAUSIBLE", "frozen: 5 readings in a row repeat 240.0000 V and 101.00 W bit "
                                "for bit (a live meter's noise always moves them)"),
          ("ESTOP", "E-stop loop open"))
AUDIT = (("/dev/ttyGS0", "technician", "login", "ok"),
         ("/dev/ttyGS0", "operator", "mode charge", "ok"),
         ("/dev/ttyGS0", "viewer", "reset", "refused: `reset` needs the operator role (this "
                                            "session is viewer); `login` with the operator PIN"))


def file_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        pages: int = db.execute("PRAGMA page_count").fetchone()[0]
        size: int = db.execute("PRAGMA page_size").fetchone()[0]
        return pages * size
    finally:
        db.close()


def write_events(store: StateStore, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        kind, text = EVENTS[n % len(EVENTS)]
        store.record_event(1e5 + n * 0.7, 1.77e9 + n * 570.0, kind, text)
        if n % RELEASE_EVERY == 0:
            store.release()


def write_faults(store: StateStore, count: int) -> None:
    for n in range(count):
        code, detail = FAULTS[n % len(FAULTS)]
        store.latch_fault(code, detail, 1.77e9 + n * 86400.0)
        store.clear_faults(1.77e9 + n * 86400.0 + 600.0)
        if n % RELEASE_EVERY == 0:
            store.release()


def write_audit(db: sqlite3.Connection, keep: int, count: int) -> None:
    audit = AuditStore(db, keep)
    for n in range(count):
        port, role, command, outcome = AUDIT[n % len(AUDIT)]
        audit.record(1e5 + n, 1.77e9 + n * 3600.0, port, role, command, outcome)


def bytes_per_row(directory: Path, name: str, fill: Callable[[Path], None]) -> float:
    """The growth of a database file per row of one table (the empty file subtracted)."""
    empty, full = directory / f"{name}-empty.sqlite", directory / f"{name}.sqlite"
    StateStore(str(empty), UNTRIMMED).close()
    fill(full)
    return (file_bytes(full) - file_bytes(empty)) / SAMPLE_ROWS


def fill_events(path: Path) -> None:
    store = StateStore(str(path), UNTRIMMED)
    write_events(store, SAMPLE_ROWS)
    store.close()


def fill_faults(path: Path) -> None:
    store = StateStore(str(path), UNTRIMMED)
    write_faults(store, SAMPLE_ROWS)
    store.close()


def fill_audit(path: Path) -> None:
    store = StateStore(str(path), UNTRIMMED)
    store.connection.execute("PRAGMA synchronous=OFF")  # sizes, not speed: no fsync per row
    write_audit(store.connection, SAMPLE_ROWS, SAMPLE_ROWS)
    store.close()


def bounded_file(directory: Path, retention: Retention) -> list[tuple[int, int]]:
    """(events written, file bytes) after each limit's worth: the file stops growing."""
    path = directory / "bounded.sqlite"
    sizes = []
    for round_ in range(FILL_FACTOR):
        store = StateStore(str(path), retention)
        store.connection.execute("PRAGMA synchronous=OFF")
        write_events(store, retention.events, round_ * retention.events)
        write_faults(store, retention.cleared_faults)
        store.flush()  # the audit writes on the store's connection: the writer done first
        write_audit(store.connection, retention.audit, retention.audit)
        store.close()
        sizes.append(((round_ + 1) * retention.events, file_bytes(path)))
    return sizes


def main() -> None:
    logging.disable(logging.WARNING)  # the audit logs each refused command it records
    mean_chars = sum(len(k) + len(t) for k, t in EVENTS) / len(EVENTS)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        per_event = bytes_per_row(directory, "events", fill_events)
        per_fault = bytes_per_row(directory, "faults", fill_faults)
        per_audit = bytes_per_row(directory, "audit", fill_audit)
        print(f"bytes per row on disk ({SAMPLE_ROWS} rows each): event {per_event:.0f} (kind and "
              f"text {mean_chars:.0f} characters on average), cleared latched fault "
              f"{per_fault:.0f}, console audit {per_audit:.0f}")
        r = DEFAULT_RETENTION
        estimate = r.events * per_event + r.cleared_faults * per_fault + r.audit * per_audit
        print(f"default limits: {r.events} events ({r.events / EVENTS_PER_DAY / 365:.1f} years "
              f"at {EVENTS_PER_DAY} a day), {r.cleared_faults} cleared faults, {r.audit} audit "
              f"rows: {estimate / 1e6:.1f} MB by the figures above")
        t0 = time.perf_counter()
        sizes = bounded_file(directory, r)
        took = time.perf_counter() - t0
        steps = ", ".join(f"after {n} events {b / 1e6:.1f} MB" for n, b in sizes)
        print(f"the file at the default limits, each limit written {FILL_FACTOR} times over "
              f"({took:.0f} s): {steps}")


if __name__ == "__main__":
    main()
