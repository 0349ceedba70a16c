"""How many rows each growing table of the state database keeps, and the statements that trim it.

The event log, the cleared latched faults, the console audit and the calibration history would
otherwise grow for as long as the charger runs; on an SD card that ends in a full disk, and a
store write that fails is ``STORE_WRITE_FAILED``, a STOP (docs/safety.md). Each table keeps its
newest rows up to a count from ``[store]`` (``controller/config/model.py``): a count bounds the
file whatever the rate (a flapping fault, a console script), where an age would not.

Rows are deleted by primary key (``id <= newest id - keep``), a range of the table's own b-tree:
the cost is the rows deleted, never the rows kept. A table is trimmed once at start-up (a
database from before retention, or from a run with a larger limit, is brought down at once),
then as it grows: the event log and the audit every :func:`prune_interval` inserts (so neither
ever holds more than ``keep`` plus that interval, 1 % of ``keep`` at most), the cleared faults at
each clear (the only write that adds one), the calibrations at each save. Never deleted: an
active latched fault (faults latch until an explicit reset and survive a restart) and each
channel's newest calibration row (the one in force, or the ``cleared`` row that withdrew it).
SQLite reuses the pages of deleted rows, so the file stops growing once it reaches its limits;
it does not shrink (no ``VACUUM``).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Final

from controller.config.model import StoreSettings

log = logging.getLogger("v2x.store")

# A row on disk, rounded up from bench/store_size.py (an event 97 bytes, a cleared fault 88, an
# audit row 81): what the doctor expects the database to reach at its limits.
ROW_BYTES: Final = 100
PRUNE_EVERY_MAX: Final = 100  # inserts between two trims of a table, at most
SLACK_FRACTION: Final = 100  # a table holds at most 1/SLACK_FRACTION more rows than it keeps


def keep_newest(table: str) -> str:
    """The statement that deletes all but ``table``'s newest rows (its parameter: how many to
    keep), by its ``id`` primary key: a range of the table's own b-tree."""
    return f"DELETE FROM {table} WHERE id <= (SELECT MAX(id) FROM {table}) - ?"


PRUNE_EVENTS: Final = keep_newest("events")
# Only cleared rows: an active fault is never deleted, however old.
PRUNE_CLEARED_FAULTS: Final = ("DELETE FROM latched_faults WHERE active = 0 AND "
                               "id <= (SELECT MAX(id) FROM latched_faults) - ?")
PRUNE_AUDIT: Final = keep_newest("console_audit")
# Each channel's newest row decides what is in force (calibration_store.py): always kept.
PRUNE_CALIBRATIONS: Final = ("DELETE FROM calibrations WHERE "
                             "id <= (SELECT MAX(id) FROM calibrations) - ? AND id NOT IN "
                             "(SELECT MAX(id) FROM calibrations GROUP BY channel)")


@dataclass(frozen=True, slots=True)
class Retention:
    """Rows kept per table (each at least 1; the config's ranges are narrower)."""

    events: int
    cleared_faults: int
    audit: int
    calibrations: int

    def __post_init__(self) -> None:
        for name in ("events", "cleared_faults", "audit", "calibrations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"retention {name} = {value!r}: must be a whole number >= 1")

    @classmethod
    def from_settings(cls, store: StoreSettings) -> Retention:
        return cls(events=store.keep_events, cleared_faults=store.keep_cleared_faults,
                   audit=store.keep_audit, calibrations=store.keep_calibrations)


DEFAULT_RETENTION: Final = Retention.from_settings(StoreSettings())


def bounded_bytes(retention: Retention) -> int:
    """About how large the database grows with every table at its limit (the file reaches
    this and stops: deleted rows' pages are reused)."""
    return ROW_BYTES * (retention.events + retention.cleared_faults + retention.audit
                        + retention.calibrations)


def prune_interval(keep: int) -> int:
    """Inserts between two trims of a table that keeps ``keep`` rows: 1 % of it, from 1 to
    :data:`PRUNE_EVERY_MAX` (at the default 250,000 events: one DELETE of 100 rows every 100)."""
    return max(1, min(PRUNE_EVERY_MAX, keep // SLACK_FRACTION))


class PruneCounter:
    """Counts the inserts of one table; says when the next trim is due."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.every = prune_interval(keep)
        self._since = 0

    def inserted(self) -> bool:
        """One insert more; True when the table is to be trimmed now."""
        self._since += 1
        if self._since < self.every:
            return False
        self._since = 0
        return True


def trim_at_open(db: sqlite3.Connection, sql: str, keep: int) -> None:
    """Trim a table written on ``db`` (not through the write queue) when its store opens.

    Deleting needs the database's write lock, which the writer thread may hold for a while (its
    own start-up trim of a large old event log); opening must not fail for that, so a busy
    database only defers the trim to the table's next periodic one (logged).
    """
    try:
        with db:
            db.execute(sql, (keep,))
    except sqlite3.OperationalError as err:
        log.warning("state store: a start-up trim is deferred to the table's next one (%s)", err)
