"""SQLite event log and latched faults.

Writes never wait for the disk: they are queued to the store's writer thread
(``controller/store/writer.py``), which commits them in the order they were made, a batch per
transaction, so a power cut leaves whole records or none, and never a later record without an
earlier one. Reads first wait for the writes made before them (they are off the control tick:
console, reports, start-up). ``close`` commits everything queued. The controller reads the active
latched faults at start-up and starts in ``fault`` if there are any: a restart never clears a
fault. A ``:memory:`` store writes at once (nothing to fsync; another connection would be
another database).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from controller.store.writer import BUSY_TIMEOUT_MS, InlineWriter, StoreWriter, Write, Writer
from hal.errors import HalSetupError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    wall_time REAL NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS latched_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    wall_time REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    cleared_wall_time REAL
);
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    t: float
    wall_time: float
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class StoredFault:
    code: str
    detail: str
    wall_time: float


class StateStore:
    """One SQLite database; ``:memory:`` keeps nothing across runs (the built-in simulator)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.executescript(SCHEMA)
            self._active = self._db.execute(
                "SELECT COUNT(*) FROM latched_faults WHERE active = 1").fetchone()[0]
            self._writer: Writer = (InlineWriter(self._db) if path == ":memory:"
                                    else StoreWriter(path))
        except (sqlite3.Error, OSError) as err:
            raise HalSetupError(f"cannot open the state store {path}: {err}") from err

    @property
    def writer(self) -> Writer:
        """The write queue (``controller/store/writer.py``): other tables of this database
        written from the control tick (fault counters) go through it too, in the same order."""
        return self._writer

    def submit(self, sql: str, params: tuple[str | float | int | None, ...]) -> None:
        """Queue one write (one record) behind every write made before it."""
        self._writer.submit(Write(sql, params))

    def flush(self) -> bool:
        """Wait until every write made so far is committed; False if that timed out."""
        return self._writer.flush()

    def record_event(self, t: float, wall_time: float, kind: str, text: str) -> None:
        self.submit("INSERT INTO events (t, wall_time, kind, text) VALUES (?, ?, ?, ?)",
                    (t, wall_time, kind, text))

    def events(self, limit: int = 100) -> list[StoredEvent]:
        self.flush()
        rows = self._db.execute(
            "SELECT t, wall_time, kind, text FROM events ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [StoredEvent(*row) for row in reversed(rows)]

    def latch_fault(self, code: str, detail: str, wall_time: float) -> None:
        self.submit("INSERT INTO latched_faults (code, detail, wall_time) VALUES (?, ?, ?)",
                    (code, detail, wall_time))
        self._active += 1

    def active_faults(self) -> list[StoredFault]:
        self.flush()
        rows = self._db.execute(
            "SELECT code, detail, wall_time FROM latched_faults WHERE active = 1 ORDER BY id"
        ).fetchall()
        return [StoredFault(*row) for row in rows]

    def clear_faults(self, wall_time: float) -> int:
        """Queue the clearing of every active latched fault (behind their latching); returns
        how many rows it clears."""
        self.submit("UPDATE latched_faults SET active = 0, cleared_wall_time = ? WHERE active = 1",
                    (wall_time,))
        cleared, self._active = self._active, 0
        return int(cleared)

    @property
    def connection(self) -> sqlite3.Connection:
        """The database, for tables written outside the control tick (console audit,
        calibration); reads of the store's own tables should use the methods here, which wait
        for queued writes. Call :meth:`flush` before reading what the writer wrote."""
        return self._db

    def close(self) -> None:
        """Commit every queued write, then close (a restart sees everything written)."""
        self._writer.close()
        self._db.close()
