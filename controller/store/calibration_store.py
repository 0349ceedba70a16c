"""Calibrations in SQLite, on the state store's database: saved with date and reference.

Every calibration is a new row (the history is kept, up to ``store.keep_calibrations`` rows
besides each channel's newest: ``controller/store/retention.py``); the newest row per channel is
in force unless a later ``cleared`` row withdrew it, and it is never deleted.
:meth:`CalibrationStore.load` validates each row again, so a row that is implausible (edited by
hand, or written by an older rule) is refused at load and reported, never applied.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from controller.measurement.calibration import (
    Calibration,
    CalibrationRefused,
    CalibrationSet,
    ReferencePoint,
    validate,
)
from controller.store.retention import PRUNE_CALIBRATIONS, trim_at_open
from controller.store.state_store import StateStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS calibrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    gain REAL NOT NULL,
    offset_value REAL NOT NULL,
    reference TEXT NOT NULL,
    date TEXT NOT NULL,
    points TEXT NOT NULL,
    cleared INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class LoadedCalibrations:
    """What :meth:`CalibrationStore.load` found: the set to apply and the rows refused."""

    calibrations: CalibrationSet
    refused: list[str] = field(default_factory=list)


class CalibrationStore:
    """The ``calibrations`` table of the state store's database."""

    def __init__(self, store: StateStore) -> None:
        self._db: sqlite3.Connection = store.connection
        self._keep = store.retention.calibrations
        with self._db:
            self._db.executescript(SCHEMA)
        trim_at_open(self._db, PRUNE_CALIBRATIONS, self._keep)

    def save(self, cal: Calibration) -> None:
        """Store a validated calibration; it is in force from the next :meth:`load`."""
        validate(cal)
        points = json.dumps([[p.reference, p.measured] for p in cal.points])
        with self._db:
            self._db.execute(
                "INSERT INTO calibrations (channel, gain, offset_value, reference, date, points) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (cal.channel, cal.gain, cal.offset, cal.reference, cal.date, points))
            self._prune()

    def clear(self, channel: str, date: str) -> None:
        """Withdraw ``channel``'s calibration (it reads uncorrected from the next load)."""
        with self._db:
            self._db.execute(
                "INSERT INTO calibrations (channel, gain, offset_value, reference, date, points, "
                "cleared) VALUES (?, 1.0, 0.0, 'cleared', ?, '[]', 1)", (channel, date))
            self._prune()

    def _prune(self) -> None:
        """Delete history beyond ``keep`` rows, never a channel's newest (inside the caller's
        transaction: a calibration is saved by hand, rarely, so each save trims)."""
        self._db.execute(PRUNE_CALIBRATIONS, (self._keep,))

    def history(self, channel: str) -> list[Calibration]:
        """The calibrations kept for ``channel``, oldest first (clears excluded)."""
        rows = self._db.execute(
            "SELECT channel, gain, offset_value, reference, date, points FROM calibrations "
            "WHERE channel = ? AND cleared = 0 ORDER BY id", (channel,)).fetchall()
        return [_row_to_calibration(row) for row in rows]

    def load(self) -> LoadedCalibrations:
        """The newest calibration of each channel, validated again; refused rows reported."""
        rows = self._db.execute(
            "SELECT channel, gain, offset_value, reference, date, points, cleared "
            "FROM calibrations WHERE id IN "
            "(SELECT MAX(id) FROM calibrations GROUP BY channel) ORDER BY channel"
        ).fetchall()
        good: list[Calibration] = []
        refused: list[str] = []
        for row in rows:
            if row[6]:
                continue
            cal = _row_to_calibration(row[:6])
            try:
                validate(cal)
            except CalibrationRefused as err:
                refused.append(f"{err} (stored {cal.date}); the channel reads uncorrected")
                continue
            good.append(cal)
        return LoadedCalibrations(CalibrationSet(good), refused)


def _row_to_calibration(row: tuple[str, float, float, str, str, str]) -> Calibration:
    channel, gain, offset, reference, date, points = row
    pts = tuple(ReferencePoint(float(r), float(m)) for r, m in json.loads(points))
    return Calibration(channel, float(gain), float(offset), reference, date, pts)
