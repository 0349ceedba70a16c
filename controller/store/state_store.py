"""SQLite event log and latched faults.

Each write is its own transaction (``with self._db``), so a power cut leaves either the whole
record or none of it. The controller reads the active latched faults at start-up and starts in
``fault`` if there are any: a restart never clears a fault.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from controller.store.owner_only import prepare_database_file
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
                prepare_database_file(Path(path))  # 0600 in 0700 directories, any umask
            self._db = sqlite3.connect(path)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as err:
            raise HalSetupError(f"cannot open the state store {path}: {err}") from err

    def record_event(self, t: float, wall_time: float, kind: str, text: str) -> None:
        with self._db:
            self._db.execute("INSERT INTO events (t, wall_time, kind, text) VALUES (?, ?, ?, ?)",
                             (t, wall_time, kind, text))

    def events(self, limit: int = 100) -> list[StoredEvent]:
        rows = self._db.execute(
            "SELECT t, wall_time, kind, text FROM events ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [StoredEvent(*row) for row in reversed(rows)]

    def latch_fault(self, code: str, detail: str, wall_time: float) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO latched_faults (code, detail, wall_time) VALUES (?, ?, ?)",
                (code, detail, wall_time))

    def active_faults(self) -> list[StoredFault]:
        rows = self._db.execute(
            "SELECT code, detail, wall_time FROM latched_faults WHERE active = 1 ORDER BY id"
        ).fetchall()
        return [StoredFault(*row) for row in rows]

    def clear_faults(self, wall_time: float) -> int:
        with self._db:
            cur = self._db.execute(
                "UPDATE latched_faults SET active = 0, cleared_wall_time = ? WHERE active = 1",
                (wall_time,))
        return cur.rowcount

    @property
    def connection(self) -> sqlite3.Connection:
        """The database, for the fault counters table (``controller/store/fault_counters.py``)."""
        return self._db

    def close(self) -> None:
        self._db.close()
