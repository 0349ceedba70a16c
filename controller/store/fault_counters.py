"""Fault counters and retry bookkeeping, persisted next to the latched faults.

One row per fault code: how often it ever occurred, when last, and the automatic retries used in
the current retry window. Each update is one SQLite transaction (an UPSERT), so a power cut keeps
either the old or the new row. The counters survive restarts and resets; only the retry window
restarts.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS fault_counters (
    code TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0,
    last_wall_time REAL NOT NULL,
    retries INTEGER NOT NULL DEFAULT 0,
    window_start_wall_time REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class FaultCounter:
    code: str
    count: int
    last_wall_time: float
    retries: int
    window_start_wall_time: float


class FaultCounters:
    """On the state store's connection (``StateStore.connection``)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        with self._db:
            self._db.executescript(SCHEMA)

    def record(self, code: str, wall_time: float) -> FaultCounter:
        """One more occurrence of ``code``; returns the updated row."""
        with self._db:
            self._db.execute(
                "INSERT INTO fault_counters (code, count, last_wall_time, retries, "
                "window_start_wall_time) VALUES (?, 1, ?, 0, ?) ON CONFLICT(code) DO UPDATE SET "
                "count = count + 1, last_wall_time = excluded.last_wall_time",
                (code, wall_time, wall_time))
        return self.get(code)

    def use_retry(self, code: str, wall_time: float, window_s: float) -> int:
        """Count one automatic retry (restarting the window when it has passed); returns the
        retries used in the window, this one included."""
        with self._db:
            self._db.execute(
                "UPDATE fault_counters SET retries = CASE WHEN ? - window_start_wall_time > ? "
                "THEN 1 ELSE retries + 1 END, window_start_wall_time = CASE WHEN "
                "? - window_start_wall_time > ? THEN ? ELSE window_start_wall_time END "
                "WHERE code = ?",
                (wall_time, window_s, wall_time, window_s, wall_time, code))
        return self.get(code).retries

    def retries_used(self, code: str, wall_time: float, window_s: float) -> int:
        row = self.get(code)
        if row.window_start_wall_time and wall_time - row.window_start_wall_time > window_s:
            return 0
        return row.retries

    def get(self, code: str) -> FaultCounter:
        row = self._db.execute(
            "SELECT code, count, last_wall_time, retries, window_start_wall_time "
            "FROM fault_counters WHERE code = ?", (code,)).fetchone()
        if row is None:
            return FaultCounter(code, 0, 0.0, 0, 0.0)
        return FaultCounter(*row)

    def all(self) -> list[FaultCounter]:
        rows = self._db.execute(
            "SELECT code, count, last_wall_time, retries, window_start_wall_time "
            "FROM fault_counters ORDER BY code").fetchall()
        return [FaultCounter(*row) for row in rows]
