"""Prices: a time-of-use table (months, weekdays, holidays) or a dynamic per-interval file.

Both formats are documented in docs/planner.md ("Inputs"). Negative prices are real (a dynamic
tariff pays you to take power on a sunny, windy noon) and are kept; NaN, inf, empty cells,
unordered rows and holes are refused with the file, the line and the rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.planner.model import Array, PlannerInputError

DAYS = ("all", "weekdays", "weekends")  # holidays count as weekends
DAY = dt.timedelta(days=1)


def _clock(name: str, text: object) -> dt.time:
    if not isinstance(text, str):
        raise PlannerInputError(f"{name} = {text!r}: must be a time \"HH:MM\"")
    if text == "24:00":
        return dt.time(0, 0)
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise PlannerInputError(f"{name} = {text!r}: must be a time \"HH:MM\"") from None


def _price(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlannerInputError(f"{name} = {value!r}: must be a finite number (negative prices "
                                "are allowed)")
    return float(value)


@dataclass(frozen=True, slots=True)
class Period:
    """One row of a time-of-use table: a window of the day in some months on some days."""

    start: dt.time
    end: dt.time  # exclusive; 00:00 means midnight at the end of the day
    import_price: float
    export_price: float
    months: frozenset[int] = frozenset(range(1, 13))
    days: str = "all"

    def covers(self, t: dt.datetime, holiday: bool) -> bool:
        if t.month not in self.months:
            return False
        weekend = holiday or t.weekday() >= 5
        if (self.days == "weekdays" and weekend) or (self.days == "weekends" and not weekend):
            return False
        now, start, end = t.time(), self.start, self.end
        if end == dt.time(0, 0):
            return now >= start
        if start <= end:
            return start <= now < end
        return now >= start or now < end  # wraps midnight


@dataclass(frozen=True, slots=True)
class TouTariff:
    """A time-of-use table: the first period that covers a moment sets its prices."""

    periods: tuple[Period, ...]
    holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if not self.periods:
            raise PlannerInputError("tariff.period: a time-of-use tariff needs at least one")
        for month in range(1, 13):  # one week of each month: every weekday, every slot
            for day in range(7):
                for q in range(96):
                    t = dt.datetime(2024, month, 1 + day) + dt.timedelta(minutes=15 * q)
                    for holiday in (False, True):
                        if not any(p.covers(t, holiday) for p in self.periods):
                            raise PlannerInputError(
                                f"tariff.period: no period covers {t:%a %H:%M} in month "
                                f"{t.month}" + (" on a holiday" if holiday else "")
                                + ': add a period (or one with days = "all" and no months)')

    def prices(self, start: dt.datetime, n: int, step_h: float) -> tuple[Array, Array]:
        imp, exp = np.zeros(n), np.zeros(n)
        for i in range(n):
            t = start + dt.timedelta(hours=step_h * i)
            period = next(p for p in self.periods if p.covers(t, t.date() in self.holidays))
            imp[i], exp[i] = period.import_price, period.export_price
        return imp, exp


def tou_from_table(table: Mapping[str, object]) -> TouTariff:
    """A TouTariff from the ``[tariff]`` TOML table (``kind = "tou"``)."""
    raw = table.get("period")
    if not isinstance(raw, list):
        raise PlannerInputError("tariff.period: must be an array of tables ([[tariff.period]])")
    default_export = _price("tariff.export_price", table.get("export_price", 0.0))
    periods = []
    for k, row in enumerate(raw):
        name = f"tariff.period[{k}]"
        if not isinstance(row, dict):
            raise PlannerInputError(f"{name}: must be a table")
        unknown = set(row) - {"start", "end", "import_price", "export_price", "months", "days"}
        if unknown:
            raise PlannerInputError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}")
        months = row.get("months", list(range(1, 13)))
        if not isinstance(months, list) or not months or not all(
                isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months):
            raise PlannerInputError(f"{name}.months = {months!r}: a list of months 1..12")
        days = row.get("days", "all")
        if days not in DAYS:
            raise PlannerInputError(f"{name}.days = {days!r}: one of {', '.join(DAYS)}")
        periods.append(Period(_clock(f"{name}.start", row.get("start", "00:00")),
                              _clock(f"{name}.end", row.get("end", "24:00")),
                              _price(f"{name}.import_price", row.get("import_price")),
                              _price(f"{name}.export_price",
                                     row.get("export_price", default_export)),
                              frozenset(months), str(days)))
    holidays = table.get("holidays", [])
    if not isinstance(holidays, list) or not all(isinstance(d, dt.date) for d in holidays):
        raise PlannerInputError("tariff.holidays: a list of dates (TOML 2026-12-25)")
    return TouTariff(tuple(periods), frozenset(holidays))


@dataclass(frozen=True, slots=True)
class DynamicPrices:
    """Per-interval prices: each row holds from its start until the next row's start."""

    starts: tuple[dt.datetime, ...]
    import_price: Array
    export_price: Array

    def covered_until(self) -> dt.datetime:
        last = self.starts[-1]
        width = self.starts[-1] - self.starts[-2] if len(self.starts) > 1 else dt.timedelta(
            hours=1)
        return last + width

    def prices(self, start: dt.datetime, n: int, step_h: float) -> tuple[Array, Array]:
        """Prices for ``n`` steps from ``start``; PlannerInputError if a step is not covered."""
        return self._at([start + dt.timedelta(hours=step_h * i) for i in range(n)])

    def persisted(self, start: dt.datetime, n: int, step_h: float) -> tuple[Array, Array]:
        """Prices for up to ``n`` steps from ``start``: the published ones, then each step past
        them priced as the same time of the last published day (the day before, or the one
        before that, ...): a forecast from published prices only. Shorter than ``n`` where a
        day earlier falls before the file's first interval; PlannerInputError if a published
        step is not covered (``start`` before the file)."""
        end = self.covered_until()
        sources: list[dt.datetime] = []
        for i in range(n):
            t = start + dt.timedelta(hours=step_h * i)
            if t >= end:
                t -= math.ceil((t - end) / DAY + 1e-9) * DAY
                if t < self.starts[0]:
                    break
            sources.append(t)
        return self._at(sources)

    def _at(self, times: list[dt.datetime]) -> tuple[Array, Array]:
        """The prices of the rows that hold at ``times``; PlannerInputError for a time no row
        covers."""
        stamps = np.array([s.timestamp() for s in self.starts])
        rows = np.searchsorted(stamps, [t.timestamp() for t in times], side="right") - 1
        end = self.covered_until()
        for t, k in zip(times, rows, strict=True):
            if k < 0 or t >= end:
                raise PlannerInputError(f"prices: nothing covers {t.isoformat()} (the file "
                                        f"runs {self.starts[0].isoformat()} .. "
                                        f"{end.isoformat()})")
        return self.import_price[rows].astype(float), self.export_price[rows].astype(float)


def read_dynamic(path: Path, default_export: float | None = None) -> DynamicPrices:
    """A price file: CSV ``start,import_price[,export_price]``, start ISO 8601 with a UTC
    offset, rows strictly ascending; '#' lines are comments. Without an export column every
    interval sells at ``default_export`` (which must then be given)."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if ln.strip() and not ln.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as err:
        raise PlannerInputError(f"{path}: cannot read: {err}") from err
    rows = list(csv.reader(lines))
    if not rows or [c.strip() for c in rows[0][:2]] != ["start", "import_price"]:
        raise PlannerInputError(f"{path}: the header must be start,import_price[,export_price]")
    header = [c.strip() for c in rows[0]]
    has_export = header[2:3] == ["export_price"]
    if len(header) > 3 or (len(header) == 3 and not has_export):
        raise PlannerInputError(f"{path}: unknown column(s) {header[2:]}")
    if not has_export and default_export is None:
        raise PlannerInputError(f"{path}: no export_price column and no tariff.export_price")
    starts: list[dt.datetime] = []
    imp: list[float] = []
    exp: list[float] = []
    for k, row in enumerate(rows[1:], start=2):
        where = f"{path} row {k}"
        if len(row) != len(header):
            raise PlannerInputError(f"{where}: {len(row)} cells, the header has {len(header)}")
        try:
            t = dt.datetime.fromisoformat(row[0].strip())
        except ValueError:
            raise PlannerInputError(f"{where}: start {row[0]!r} is not ISO 8601") from None
        if t.tzinfo is None:
            raise PlannerInputError(f"{where}: start {row[0]!r} needs a UTC offset")
        if starts and t <= starts[-1]:
            raise PlannerInputError(f"{where}: start {row[0]!r} is not after the row before")
        starts.append(t)
        imp.append(_cell(where, "import_price", row[1]))
        exp.append(_cell(where, "export_price", row[2]) if has_export else float(
            default_export or 0.0))
    if not starts:
        raise PlannerInputError(f"{path}: no price rows")
    return DynamicPrices(tuple(starts), np.array(imp), np.array(exp))


def _cell(where: str, name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise PlannerInputError(f"{where}: {name} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise PlannerInputError(f"{where}: {name} = {text.strip()}: must be finite (negative "
                                "prices are allowed, NaN and inf are not)")
    return v
