"""A read-only view of the state database, for ``v2xctl faults`` and ``v2xctl log``.

It opens the database with SQLite's ``mode=ro`` URI, so it can never create, migrate or write
it, and it is safe while the controller runs: the store is in WAL mode, where a reader sees the
last committed transaction and neither blocks the writer nor waits for it. It reads the tables
the writers define (``state_store.py``, ``audit_store.py``) and never changes their schema; a
table that does not exist yet (no console ever served) reads as empty.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from controller.store.audit_store import AuditEntry
from controller.store.state_store import StoredEvent
from hal.errors import V2xError

BUSY_TIMEOUT_S = 2.0  # a checkpoint may hold the database briefly; never wait longer
NO_LIMIT = -1  # SQLite: LIMIT -1 is no limit
# The state directory is the service user's (mode 750) and its WAL index is written with umask 077.
ACCESS_HINT = "read it as root or as the service user: sudo v2xctl ..."


class StoreReadError(V2xError, OSError):
    """The state database cannot be read (missing, unreadable, or not a state database)."""


@dataclass(frozen=True, slots=True)
class FaultRow:
    code: str
    detail: str
    wall_time: float
    active: bool
    cleared_wall_time: float | None


class StateReader:
    """The latched faults, the event log and the console audit, read only."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            Path(path).stat()
        except FileNotFoundError:
            raise StoreReadError(f"no state database at {path} (has the controller run with "
                                 "this config? store.path names it)") from None
        except OSError as err:
            raise StoreReadError(f"cannot read the state database {path}: {err.strerror} "
                                 f"({ACCESS_HINT})") from None
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
            self._tables = {row[0] for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as err:
            raise StoreReadError(f"cannot read the state database {path}: {err} "
                                 f"({ACCESS_HINT})") from err
        if "events" not in self._tables or "latched_faults" not in self._tables:
            self._db.close()
            raise StoreReadError(f"{path} is not a v2x-controller state database (no events "
                                 "or latched_faults table)")

    def _rows(self, table: str, sql: str, args: tuple[float, int]) -> list[tuple[Any, ...]]:
        if table not in self._tables:
            return []
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as err:
            raise StoreReadError(f"cannot read {table} from {self.path}: {err}") from err

    def faults(self, since: float | None = None, include_cleared: bool = False,
               limit: int = NO_LIMIT) -> list[FaultRow]:
        """Latched faults, oldest first: the active ones, or every one with include_cleared;
        ``since`` (epoch seconds) keeps those latched at or after it."""
        where = "wall_time >= ?" + ("" if include_cleared else " AND active = 1")
        rows = self._rows("latched_faults",
                          "SELECT code, detail, wall_time, active, cleared_wall_time FROM "
                          f"latched_faults WHERE {where} ORDER BY id DESC LIMIT ?",
                          (_floor(since), limit))
        return [FaultRow(str(c), str(d), float(w), bool(a), None if cl is None else float(cl))
                for c, d, w, a, cl in reversed(rows)]

    def events(self, since: float | None = None, limit: int = NO_LIMIT) -> list[StoredEvent]:
        """Event log rows, oldest first (the latest ``limit``)."""
        rows = self._rows("events", "SELECT t, wall_time, kind, text FROM events WHERE "
                          "wall_time >= ? ORDER BY id DESC LIMIT ?", (_floor(since), limit))
        return [StoredEvent(float(t), float(w), str(k), str(x))
                for t, w, k, x in reversed(rows)]

    def audit(self, since: float | None = None, limit: int = NO_LIMIT) -> list[AuditEntry]:
        """Console audit rows (logins, lock-outs, privileged commands), oldest first."""
        rows = self._rows("console_audit", "SELECT t, wall_time, port, role, command, outcome "
                          "FROM console_audit WHERE wall_time >= ? ORDER BY id DESC LIMIT ?",
                          (_floor(since), limit))
        return [AuditEntry(float(t), float(w), str(p), str(r), str(c), str(o))
                for t, w, p, r, c, o in reversed(rows)]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _floor(since: float | None) -> float:
    return float("-inf") if since is None else since
