"""The station's durable state in SQLite: the transaction-message queue and a few records.

Every TransactionEvent goes through the queue, online or not, so the CSMS receives them in the
order they happened, each with the timestamp and ``seqNo`` it was made with. A message is
committed before anyone tries to send it and deleted only after the CSMS answered, so a kill
(power cut, crash, ``SIGKILL``) loses nothing; the one message in flight at the kill may reach
the CSMS twice, with the same ``seqNo``, which OCPP lets the CSMS recognise (docs/ocpp.md).

The queue is bounded: at ``max_messages`` the oldest periodic meter update is dropped first;
transaction starts and ends go only when nothing else is left to drop, and every drop is
counted (``dropped``). The key-value table keeps the running transaction and the local
authorisation list across restarts.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    droppable INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS record (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DROPPED_KEY = "outbox.dropped"


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    action: str
    payload: dict[str, Any]
    attempts: int


class StationStore:
    """One SQLite file, owner-only, committed on every write (synchronous=FULL)."""

    def __init__(self, path: str, max_messages: int) -> None:
        if path != ":memory:":
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._max = max_messages

    def close(self) -> None:
        self._db.close()

    # ----- the queue -------------------------------------------------------------------
    def put(self, action: str, payload: dict[str, Any], *, droppable: bool,
            record: tuple[str, Any] | None = None) -> int:
        """Append a message; returns its queue number. Drops the oldest (see the module doc)
        first when the queue is full. ``record`` (key, value; value None deletes the key) is
        written in the same commit, so a record and its message never disagree."""
        text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
        with self._transaction():
            if self.__len__() >= self._max:
                self._drop_one()
            cursor = self._db.execute(
                "INSERT INTO outbox (action, payload, droppable) VALUES (?, ?, ?)",
                (action, text, int(droppable)))
            if record is not None:
                key, value = record
                if value is None:
                    self.delete(key)
                else:
                    self._set(key, json.dumps(value, allow_nan=False))
        return int(cursor.lastrowid or 0)

    def _drop_one(self) -> None:
        row = self._db.execute(
            "SELECT seq FROM outbox ORDER BY droppable DESC, seq ASC LIMIT 1").fetchone()
        if row is not None:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (row[0],))
            self._set(DROPPED_KEY, str(self.dropped + 1))

    def peek(self) -> Queued | None:
        """The oldest message, or None when the queue is empty."""
        row = self._db.execute(
            "SELECT seq, action, payload, attempts FROM outbox ORDER BY seq LIMIT 1").fetchone()
        if row is None:
            return None
        return Queued(int(row[0]), str(row[1]), json.loads(row[2]), int(row[3]))

    def attempted(self, seq: int) -> None:
        self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    def ack(self, seq: int) -> None:
        """The CSMS answered message ``seq``: it is done."""
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def pending(self) -> list[Queued]:
        rows = self._db.execute(
            "SELECT seq, action, payload, attempts FROM outbox ORDER BY seq").fetchall()
        return [Queued(int(r[0]), str(r[1]), json.loads(r[2]), int(r[3])) for r in rows]

    @property
    def dropped(self) -> int:
        value = self.get(DROPPED_KEY)
        return 0 if value is None else int(value)

    # ----- records ---------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM record WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def get_json(self, key: str) -> Any:
        value = self.get(key)
        return None if value is None else json.loads(value)

    def set_json(self, key: str, value: Any) -> None:
        with self._transaction():
            self._set(key, json.dumps(value, allow_nan=False))

    def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM record WHERE key = ?", (key,))

    def _set(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO record (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def _transaction(self) -> _Tx:
        return _Tx(self._db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
