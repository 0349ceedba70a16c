"""The console's audit log: every login, lock-out and privileged command, with port and role.

It lives in the state store's SQLite database (its own table), so it survives restarts with the
event log and latched faults. Each write is its own transaction. Callers never pass a PIN or a
PIN hash: the command text is recorded as the console normalised it (``login`` without its PIN).

The table keeps its newest ``keep`` rows (``store.keep_audit``; ``controller/store/retention.py``):
trimmed when the store is opened, then every 1 % of ``keep`` records (at most 100), in the
record's own transaction. The console writes outside the control tick, so the trim does too.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from controller.store.retention import (
    DEFAULT_RETENTION,
    PRUNE_AUDIT,
    PruneCounter,
    trim_at_open,
)

log = logging.getLogger("v2x.console.audit")

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    wall_time REAL NOT NULL,
    port TEXT NOT NULL,
    role TEXT NOT NULL,
    command TEXT NOT NULL,
    outcome TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    t: float
    wall_time: float
    port: str
    role: str
    command: str
    outcome: str


class AuditStore:
    """Audit rows on an open SQLite connection (``StateStore.connection``), the newest ``keep``
    kept."""

    def __init__(self, db: sqlite3.Connection, keep: int = DEFAULT_RETENTION.audit) -> None:
        self._db = db
        self._prunes = PruneCounter(keep)
        with self._db:
            self._db.executescript(SCHEMA)
        trim_at_open(self._db, PRUNE_AUDIT, keep)

    def record(self, t: float, wall_time: float, port: str, role: str, command: str,
               outcome: str) -> None:
        with self._db:
            if self._prunes.inserted():  # the insert below makes it ``keep`` again
                self._db.execute(PRUNE_AUDIT, (self._prunes.keep - 1,))
            self._db.execute(
                "INSERT INTO console_audit (t, wall_time, port, role, command, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)", (t, wall_time, port, role, command, outcome))
        # Logins, lock-outs and privileged commands are always logged too (journald: a
        # refusal, a wrong PIN or a lock-out at warning priority).
        refused = outcome.startswith("refused") or "lock" in outcome
        level = logging.WARNING if refused else logging.INFO
        log.log(level, "console %s on %s as %s: %s", command, port, role, outcome)

    def entries(self, limit: int = 100) -> list[AuditEntry]:
        """The latest ``limit`` rows, oldest first."""
        rows = self._db.execute(
            "SELECT t, wall_time, port, role, command, outcome FROM console_audit "
            "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [AuditEntry(*row) for row in reversed(rows)]
