"""SQLite event log and latched faults.

Writes never wait for the disk: they are queued to the store's writer thread
(``controller/store/writer.py``), which commits them in the order they were made, a batch per
transaction, so a power cut leaves whole records or none, and never a later record without an
earlier one. Reads never wait for the disk when memory can answer them: the active latched
faults (read at start-up, kept as they are written) and the events of this run (the newest
``RECENT_EVENTS``; earlier runs' events are read from the database, committed before this run);
only a read beyond that waits for the queued writes. ``close`` commits everything queued.

The event log keeps its newest ``Retention.events`` rows and the cleared faults their newest
``Retention.cleared_faults`` (``controller/store/retention.py``): the trims go through the same
queue (the tick never waits for them), once at start-up, then once every 1 % of the limit in
events (at most 100) and at each clear; an active fault is never deleted. The controller reads
the active latched faults at start-up and starts in ``fault`` if there are any: a restart never
clears a fault. A ``:memory:`` store writes at once (nothing to fsync; another connection would
be another database).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from controller.config.model import StoreSettings
from controller.store.owner_only import prepare_database_file
from controller.store.retention import (
    DEFAULT_RETENTION,
    PRUNE_CLEARED_FAULTS,
    PRUNE_EVENTS,
    PruneCounter,
    Retention,
)
from controller.store.writer import BUSY_TIMEOUT_MS, InlineWriter, StoreWriter, Write, Writer
from hal.errors import HalSetupError

RECENT_EVENTS: Final = 1000  # events of this run kept in memory for reads (the console's)

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

    def __init__(self, path: str, retention: Retention = DEFAULT_RETENTION) -> None:
        self.path = path
        self.retention = retention
        self._event_prunes = PruneCounter(retention.events)
        try:
            if path != ":memory:":
                prepare_database_file(Path(path))  # 0600 in 0700 directories, any umask
            self._db = sqlite3.connect(path)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.executescript(SCHEMA)
            rows = self._db.execute("SELECT code, detail, wall_time FROM latched_faults "
                                    "WHERE active = 1 ORDER BY id").fetchall()
            self._active = [StoredFault(*row) for row in rows]
            self._recent: deque[StoredEvent] = deque(maxlen=RECENT_EVENTS)
            self._recorded = 0  # events recorded by this run
            self._last_id_before = self._db.execute(  # the newest event of earlier runs
                "SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            self._writer: Writer = (InlineWriter(self._db) if path == ":memory:"
                                    else StoreWriter(path))
            # A database from before retention (or kept with larger limits) is trimmed at once.
            self.submit(PRUNE_EVENTS, (retention.events,))
            self.submit(PRUNE_CLEARED_FAULTS, (retention.cleared_faults,))
        except (sqlite3.Error, OSError) as err:
            raise HalSetupError(f"cannot open the state store {path}: {err}") from err

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> StateStore:
        """The store ``[store]`` configures: its path and its retention limits."""
        return cls(settings.path, Retention.from_settings(settings))

    @property
    def writer(self) -> Writer:
        """The write queue (``controller/store/writer.py``) and its counters."""
        return self._writer

    def submit(self, sql: str, params: tuple[str | float | int | None, ...]) -> None:
        """Queue one write (one record) behind every write made before it: other tables of
        this database written from the control tick (fault counters) come through here."""
        self._writer.submit(Write(sql, params))

    def release(self) -> None:
        """Let the writer commit what is queued (the loop calls it after each tick)."""
        self._writer.release()

    def flush(self) -> bool:
        """Wait until every write made so far is committed; False if that timed out."""
        return self._writer.flush()

    def record_event(self, t: float, wall_time: float, kind: str, text: str) -> None:
        if self._event_prunes.inserted():  # trimmed first, so a failing trim records nothing
            self.submit(PRUNE_EVENTS, (self.retention.events - 1,))  # the insert makes it keep
        self.submit("INSERT INTO events (t, wall_time, kind, text) VALUES (?, ?, ?, ?)",
                    (t, wall_time, kind, text))
        self._recent.append(StoredEvent(t, wall_time, kind, text))
        self._recorded += 1

    def events(self, limit: int = 100) -> list[StoredEvent]:
        """The newest ``limit`` events (at most ``retention.events``: the log keeps no more),
        oldest first, without waiting for the disk unless this run recorded more than memory
        keeps and more are asked for: this run's from memory, earlier runs' (committed before
        this one started) from the database. A trim never takes one of these: it deletes only
        rows older than the newest ``retention.events``."""
        limit = min(limit, self.retention.events)
        recent = list(self._recent)
        if limit <= len(recent):
            return recent[len(recent) - limit:]
        if self._recorded == len(recent):  # memory holds every event of this run
            older = self._db.execute(
                "SELECT t, wall_time, kind, text FROM events WHERE id <= ? ORDER BY id DESC "
                "LIMIT ?", (self._last_id_before, limit - len(recent))).fetchall()
            return [StoredEvent(*row) for row in reversed(older)] + recent
        self.flush()
        rows = self._db.execute(
            "SELECT t, wall_time, kind, text FROM events ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [StoredEvent(*row) for row in reversed(rows)]

    def latch_fault(self, code: str, detail: str, wall_time: float) -> None:
        self.submit("INSERT INTO latched_faults (code, detail, wall_time) VALUES (?, ?, ?)",
                    (code, detail, wall_time))
        self._active.append(StoredFault(code, detail, wall_time))

    def active_faults(self) -> list[StoredFault]:
        """The active latched faults (read at start-up, then kept as they are written)."""
        return list(self._active)

    def clear_faults(self, wall_time: float) -> int:
        """Queue the clearing of every active latched fault (behind their latching); returns
        how many it clears. A clear is what adds cleared rows (a reset, or a retry the policy
        bounds), so it trims them first (a failing trim clears nothing), leaving room for the
        faults it clears: at most ``retention.cleared_faults`` remain (or the faults of this
        one clear, were they more: the catalogue has fewer codes than the config's minimum)."""
        room = max(0, self.retention.cleared_faults - len(self._active))
        self.submit(PRUNE_CLEARED_FAULTS, (room,))
        self.submit("UPDATE latched_faults SET active = 0, cleared_wall_time = ? WHERE active = 1",
                    (wall_time,))
        cleared, self._active = len(self._active), []
        return cleared

    @property
    def connection(self) -> sqlite3.Connection:
        """The database, for tables written outside the control tick (console audit,
        calibration). What the writer writes is there once committed: :meth:`flush` first."""
        return self._db

    def close(self) -> None:
        """Commit every queued write, then close (a restart sees everything written)."""
        self._writer.close()
        self._db.close()
