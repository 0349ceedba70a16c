"""The state store's write path: the control tick enqueues, one thread at the edge commits.

A commit with ``PRAGMA synchronous=FULL`` waits for an fsync (milliseconds on an SSD, far
longer when an SD card stalls). The tick must not wait for that, so every write of the state
store (events, latched faults, fault counters) is a :class:`Write` put on a queue, and
:class:`StoreWriter`'s thread commits them **in the order they were submitted**, as many as are
waiting in one transaction (so one fsync covers a whole tick's records, and a power cut keeps
either the whole batch or none of it). Records are durable once their batch has committed:
``durable`` counts them, :meth:`StoreWriter.flush` waits for everything submitted so far.

:class:`InlineWriter` does the same writes at once on the caller's connection: for ``:memory:``
stores (the built-in simulator, tests), where a second connection would be a different
database and there is no fsync to avoid.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

log = logging.getLogger("v2x.store")

FLUSH_TIMEOUT_S: Final = 30.0  # an SD card may stall for seconds; a close waits this long
BUSY_TIMEOUT_MS: Final = 5000  # another connection (console audit, calibration) holds the lock

Param = str | float | int | None


@dataclass(frozen=True, slots=True)
class Write:
    """One SQL statement and its parameters (a whole record)."""

    sql: str
    params: Sequence[Param] = ()


class Writer(Protocol):
    def submit(self, write: Write) -> None: ...
    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool: ...
    def close(self) -> None: ...


class InlineWriter:
    """Each write committed at once on ``db`` (in the caller's thread)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.submitted = 0
        self.durable = 0
        self.failures = 0
        self.last_error: str | None = None

    def submit(self, write: Write) -> None:
        self.submitted += 1
        with self._db:
            self._db.execute(write.sql, write.params)
        self.durable += 1

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        return True

    def close(self) -> None:
        return None


class StoreWriter:
    """A thread that owns its own connection to ``path`` and commits submitted writes in order.

    ``submit`` never blocks on SQLite. A batch that fails to commit is rolled back and its
    records are retried one transaction each; a record that still fails (disk full, I/O error)
    is logged, counted in ``failures`` and ``last_error``, and lost; the writer carries on.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA synchronous=FULL")
        self._queue: deque[Write] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self.submitted = 0
        self.durable = 0  # writes committed (or failed: they are no longer pending)
        self.failures = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="v2x-store-writer", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> None:
        with self._cond:
            if self._closing:
                raise RuntimeError("state store writer is closed")
            self._queue.append(write)
            self.submitted += 1
            self._cond.notify_all()

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every write submitted so far has been committed; False on timeout."""
        with self._cond:
            target = self.submitted
            return self._cond.wait_for(lambda: self.durable >= target or not
                                       self._thread.is_alive(), timeout_s) and (
                self.durable >= target)

    def close(self) -> None:
        """Commit what is queued, stop the thread, close the connection (idempotent)."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
        self._thread.join(FLUSH_TIMEOUT_S)
        if self._thread.is_alive():
            log.error("state store writer did not finish within %.0f s", FLUSH_TIMEOUT_S)
            return
        self._db.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue:
                    return  # closing and nothing left
                batch = list(self._queue)
                self._queue.clear()
            self._commit(batch)
            with self._cond:
                self.durable += len(batch)
                self._cond.notify_all()

    def _commit(self, batch: list[Write]) -> None:
        """One transaction for the batch; if it fails, each record in its own, so one bad
        record costs only itself."""
        if self._transaction(batch) or len(batch) == 1:
            return
        for write in batch:
            self._transaction([write])

    def _transaction(self, writes: list[Write]) -> bool:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for write in writes:
                self._db.execute(write.sql, write.params)
            self._db.execute("COMMIT")
            return True
        except sqlite3.Error as err:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if len(writes) == 1:
                self.failures += 1
                self.last_error = f"{type(err).__name__}: {err}"
                log.error("state store: a record was not written (%s): %s",
                          writes[0].sql.split("(")[0].strip(), self.last_error)
            return False
