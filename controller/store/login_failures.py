"""Console login failures per port and role, persisted next to the audit log.

One row per (port, role): wrong PINs since that role's last lock-out or success on that port,
the consecutive lock-outs (the back-off step), and when the current lock-out ends in wall-clock
time with its length (so a wall clock that jumps back cannot stretch it: see
``controller/console/lockout.py``). Each update is one SQLite transaction (an UPSERT), so a
power cut keeps either the old or the new row, and a restart keeps the lock-out.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS login_failures (
    port TEXT NOT NULL,
    role TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    lockouts INTEGER NOT NULL DEFAULT 0,
    until_wall_time REAL NOT NULL DEFAULT 0,
    duration_s REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (port, role)
);
"""


@dataclass(frozen=True, slots=True)
class FailureRow:
    port: str
    role: str
    failures: int = 0  # wrong PINs since the last success or lock-out
    lockouts: int = 0  # consecutive lock-outs since the last success (the back-off step)
    until_wall_time: float = 0.0  # the current lock-out ends then (0: none)
    duration_s: float = 0.0  # the current lock-out's length


class LoginFailures:
    """On the state store's connection (``StateStore.connection``)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        with self._db:
            self._db.executescript(SCHEMA)

    def get(self, port: str, role: str) -> FailureRow:
        row = self._db.execute(
            "SELECT port, role, failures, lockouts, until_wall_time, duration_s "
            "FROM login_failures WHERE port = ? AND role = ?", (port, role)).fetchone()
        return FailureRow(port, role) if row is None else FailureRow(*row)

    def put(self, *rows: FailureRow) -> None:
        """Write ``rows`` in one transaction (one disk sync for a PIN checked for two roles)."""
        with self._db:
            self._db.executemany(
                "INSERT INTO login_failures (port, role, failures, lockouts, until_wall_time, "
                "duration_s) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(port, role) DO UPDATE SET "
                "failures = excluded.failures, lockouts = excluded.lockouts, "
                "until_wall_time = excluded.until_wall_time, duration_s = excluded.duration_s",
                [(row.port, row.role, row.failures, row.lockouts, row.until_wall_time,
                  row.duration_s) for row in rows])
