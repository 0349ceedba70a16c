"""The state store's write path: the control tick enqueues, one thread at the edge commits.

A commit with ``PRAGMA synchronous=FULL`` waits for an fsync (milliseconds on an SSD, far
longer when an SD card stalls). The tick must not wait for that, so every write of the state
store (events, latched faults, fault counters) is a :class:`Write` put on a queue, and
:class:`StoreWriter`'s thread commits them **in the order they were submitted**, as many as are
waiting in one transaction (so one fsync covers a whole tick's records, and a power cut keeps
either the whole batch or none of it). The writer starts a batch when the loop releases it
after a tick (:meth:`StoreWriter.release`), or at the latest :data:`MAX_HOLD_S` after the last
batch. Records are durable once their batch has committed: ``durable`` counts them,
:meth:`StoreWriter.flush` waits for everything submitted so far.

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
MAX_HOLD_S: Final = 0.1  # a queued record waits at most this long for a release
BUSY_TIMEOUT_MS: Final = 5000  # another connection (console audit, calibration) holds the lock

Param = str | float | int | None
_BUSY: Final = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


@dataclass(frozen=True, slots=True)
class Write:
    """One SQL statement and its parameters (a whole record)."""

    sql: str
    params: Sequence[Param] = ()


class Writer(Protocol):
    submitted: int
    durable: int
    failures: int
    last_error: str | None

    def submit(self, write: Write) -> None: ...
    def release(self) -> None: ...
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

    def release(self) -> None:
        return None

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        return True

    def close(self) -> None:
        return None


class StoreWriter:
    """A thread that owns its own connection to ``path`` and commits submitted writes in order.

    ``submit`` never blocks on SQLite. While another connection holds the database lock the
    batch waits (retried, never dropped). A batch that fails otherwise is rolled back and its
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
        self._released = False  # release() or flush() was called since the last batch
        self._stopped = False  # the thread has ended
        self.submitted = 0
        self.durable = 0  # writes committed (or failed: they are no longer pending)
        self.failures = 0
        self.last_error: str | None = None
        self.wakes = 0  # times the thread woke to commit (none while nothing is queued)
        self._thread = threading.Thread(target=self._run, name="v2x-store-writer", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> None:
        with self._cond:
            if self._closing:
                raise RuntimeError("state store writer is closed")
            self._queue.append(write)
            self.submitted += 1
            if len(self._queue) == 1:
                self._cond.notify_all()  # an idle writer starts holding it (MAX_HOLD_S)

    def release(self) -> None:
        """Let the writer commit what is queued now. The loop calls it after each tick, before
        it waits for the next one, so the writer does not compete with a tick for the
        interpreter (waking it mid-tick cost the tick about 1 ms here). With nothing queued
        (most ticks) it does nothing: the writer sleeps until a record comes."""
        with self._cond:
            self._release_queued()

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every write submitted so far has been committed; False on timeout."""
        with self._cond:
            target = self.submitted
            self._release_queued()
            self._cond.wait_for(lambda: self.durable >= target or self._stopped, timeout_s)
            return self.durable >= target

    def _release_queued(self) -> None:
        """With records queued, wake the writer to commit them now (the lock held)."""
        if self._queue:
            self._released = True
            self._cond.notify_all()

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
        try:
            self._loop()
        finally:
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                # Idle, the thread sleeps until a record is queued (no timer: a daemon at rest
                # does not wake it). Then it is released (after the tick, by flush, by close),
                # or held at most MAX_HOLD_S: a record made outside the loop's ticks is
                # committed without anyone's release.
                self._cond.wait_for(lambda: self._queue or self._closing)
                if self._queue:
                    self.wakes += 1
                self._cond.wait_for(lambda: self._released or self._closing, MAX_HOLD_S)
                self._released = False
                if not self._queue:
                    if self._closing:
                        return  # closing and nothing left
                    continue
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
        """Commit ``writes``; while another connection holds the lock (busy), wait and try
        again (nothing is dropped for that); any other error fails it."""
        waited = False
        while True:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for write in writes:
                    self._db.execute(write.sql, write.params)
                self._db.execute("COMMIT")
                return True
            except Exception as err:  # sqlite3.Error, or anything else: the thread carries on
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if getattr(err, "sqlite_errorcode", None) in _BUSY:
                    if not waited:
                        log.warning("state store: the database is locked; %d records wait",
                                    len(writes))
                        waited = True
                    continue  # each attempt already waited BUSY_TIMEOUT_MS for the lock
                self._failed(writes, err)
                return False

    def _failed(self, writes: list[Write], err: Exception) -> None:
        if len(writes) == 1:
            self.failures += 1
            self.last_error = f"{type(err).__name__}: {err}"
            log.error("state store: a record was not written (%s): %s",
                      writes[0].sql.split("(")[0].strip(), self.last_error)
