"""The wall times of the newest precharges, on the state store's database: the precharge
resistor's duty (``controller/modes/precharge_duty.py``) survives a restart.

A small table of its own rather than the event log: the event log keeps up to
``store.keep_events`` events (250,000 by default), with no index on its wall time or its kind,
so finding the precharges of the last window there would read that whole history at every
start-up (on an SD card, while systemd waits for the start), and it would parse text written
for people ("idle -> starting_precharge on ..."), whose wording may change. This table holds
one number per precharge and never more than :data:`KEEP` rows (each record deletes those
beyond), so reading it is bounded by its size as well as by wall time.

Records are written through the store's write queue (``controller/store/writer.py``), in order
with the tick's events. A table that cannot be read at start-up turns recording off for the run
(:attr:`PrechargeLog.kept`): a broken table costs the duty's memory, never the charger
(a failing write would be ``STORE_WRITE_FAILED``).
"""

from __future__ import annotations

import math
from typing import Final

from controller.store.retention import keep_newest
from controller.store.state_store import StateStore

KEEP: Final = 100  # rows kept: sequence.precharge_max_starts is at most 100 (config/model.py)

SCHEMA = """
CREATE TABLE IF NOT EXISTS precharges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wall_time REAL
);
"""
INSERT = "INSERT INTO precharges (wall_time) VALUES (?)"
PRUNE = keep_newest("precharges")
# Rows of the window, and those whose time is not a number (SQLite keeps NaN as NULL; text
# sorts above every number): the caller ignores the latter with a note.
RECENT = ("SELECT wall_time FROM precharges WHERE wall_time IS NULL OR NOT (wall_time < ?) "
          "ORDER BY id DESC LIMIT ?")


class PrechargeLog:
    """The ``precharges`` table of the state store's database."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self.kept = False  # records are written (from a successful :meth:`recent` on)

    def recent(self, since_wall: float) -> list[float]:
        """The wall times of the precharges at or after ``since_wall`` (at most :data:`KEEP`,
        newest first; a stored value that is not a number reads as NaN), creating the table
        if there is none. Raises ``sqlite3.Error`` for a table that cannot be read; from a
        successful read on, :meth:`record` writes."""
        db = self._store.connection
        with db:
            db.executescript(SCHEMA)
        rows = db.execute(RECENT, (since_wall, KEEP)).fetchall()
        self.kept = True
        return [_number(row[0]) for row in rows]

    def record(self, wall_time: float) -> str | None:
        """A precharge began at ``wall_time``: queued behind every earlier write, with the
        rows beyond :data:`KEEP` deleted; nothing when the table could not be read. Never
        raises: returns why the store refused the write (None: it did not)."""
        if not self.kept:
            return None
        try:
            self._store.submit(INSERT, (wall_time,))
            self._store.submit(PRUNE, (KEEP,))
        except Exception as err:  # the store's failure is a fault, never the loop's end
            return f"{type(err).__name__}: {err}"
        return None


def _number(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return math.nan
