"""Fault counters and retry bookkeeping, persisted next to the latched faults.

One row per fault code: how often it ever occurred, when last, and the automatic retries used in
the current retry window. The rows are loaded once and kept in memory (the trip path reads them
without touching the disk); each change is written as the whole new row through the state
store's write queue (``controller/store/writer.py``), in order behind the fault it counts, so a
power cut keeps either the old or the new row. The counters survive restarts and resets; only
the retry window restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from controller.store.state_store import StateStore

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


UPSERT = ("INSERT INTO fault_counters (code, count, last_wall_time, retries, "
          "window_start_wall_time) VALUES (?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET "
          "count = excluded.count, last_wall_time = excluded.last_wall_time, "
          "retries = excluded.retries, window_start_wall_time = excluded.window_start_wall_time")


class FaultCounters:
    """On the state store (``StateStore``): read once, written through its queue."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        db = store.connection
        with db:
            db.executescript(SCHEMA)
        store.flush()  # rows a queued write of this run may still be committing
        rows = db.execute("SELECT code, count, last_wall_time, retries, window_start_wall_time "
                          "FROM fault_counters").fetchall()
        self._rows = {row[0]: FaultCounter(*row) for row in rows}

    def _put(self, row: FaultCounter) -> FaultCounter:
        self._rows[row.code] = row
        self._store.submit(UPSERT, (row.code, row.count, row.last_wall_time, row.retries,
                                    row.window_start_wall_time))
        return row

    def record(self, code: str, wall_time: float) -> FaultCounter:
        """One more occurrence of ``code``; returns the updated row."""
        old = self._rows.get(code)
        if old is None:
            return self._put(FaultCounter(code, 1, wall_time, 0, wall_time))
        return self._put(replace(old, count=old.count + 1, last_wall_time=wall_time))

    def use_retry(self, code: str, wall_time: float, window_s: float) -> int:
        """Count one automatic retry (restarting the window when it has passed); returns the
        retries used in the window, this one included."""
        old = self._rows.get(code)
        if old is None:  # no occurrence recorded: nothing to count against (as the UPDATE was)
            return 0
        if wall_time - old.window_start_wall_time > window_s:
            new = replace(old, retries=1, window_start_wall_time=wall_time)
        else:
            new = replace(old, retries=old.retries + 1)
        return self._put(new).retries

    def retries_used(self, code: str, wall_time: float, window_s: float) -> int:
        row = self.get(code)
        if row.window_start_wall_time and wall_time - row.window_start_wall_time > window_s:
            return 0
        return row.retries

    def get(self, code: str) -> FaultCounter:
        return self._rows.get(code) or FaultCounter(code, 0, 0.0, 0, 0.0)

    def all(self) -> list[FaultCounter]:
        return [self._rows[code] for code in sorted(self._rows)]
