"""The owner's driving plan: a departure per weekday, one-off overrides, as trips in a horizon.

TOML (docs/planner.md, "Inputs")::

    [departures.monday]            # monday .. sunday; a day without a table: the car stays home
    leave = "07:30"
    back = "17:30"                 # the same day; earlier than leave: the next day
    target_soc_pct = 80
    trip_kwh = 9.5                 # what the trip takes out of the battery

    [[departures.override]]        # one date; replaces that weekday's entry
    date = 2026-12-24
    leave = "09:00"
    back = "20:00"
    target_soc_pct = 100
    trip_kwh = 30
    # or: stay = true              # no trip that day
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.planner.model import PlannerInputError, Trip, finite

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KEYS = {"leave", "back", "target_soc_pct", "trip_kwh"}


@dataclass(frozen=True, slots=True)
class Outing:
    leave: dt.time
    back: dt.time
    target_soc_pct: float
    trip_kwh: float


@dataclass(frozen=True, slots=True)
class DeparturePlan:
    weekly: Mapping[int, Outing]  # weekday (Monday 0) -> outing
    overrides: Mapping[dt.date, Outing | None]  # None: the car stays home that day

    def outing(self, day: dt.date) -> Outing | None:
        if day in self.overrides:
            return self.overrides[day]
        return self.weekly.get(day.weekday())

    def trips(self, start: dt.datetime, n: int, step_h: float) -> tuple[Trip, ...]:
        """The trips that leave inside the horizon, or are under way at its start (departure
        step 0), as step indices (rounded to a step)."""
        step = dt.timedelta(hours=step_h)
        trips: list[Trip] = []
        day = start.date() - dt.timedelta(days=1)  # yesterday's trip may still be under way
        end = start + step * n
        while dt.datetime.combine(day, dt.time(0), start.tzinfo) < end:
            out = self.outing(day)
            if out is not None:
                leave = dt.datetime.combine(day, out.leave, start.tzinfo)
                back = dt.datetime.combine(day, out.back, start.tzinfo)
                if back <= leave:
                    back += dt.timedelta(days=1)
                d = max(round((leave - start) / step), 0)  # 0: under way now
                b = round((back - start) / step)
                if b > 0 and d < n and (not trips or d >= trips[-1].back):
                    trips.append(Trip(d, max(b, d + 1), out.target_soc_pct, out.trip_kwh))
            day += dt.timedelta(days=1)
        return tuple(trips)


def _outing(name: str, row: object) -> Outing:
    if not isinstance(row, dict):
        raise PlannerInputError(f"{name}: must be a table")
    unknown = set(row) - KEYS - {"date", "stay"}
    if unknown:
        raise PlannerInputError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = KEYS - set(row)
    if missing:
        raise PlannerInputError(f"{name}: missing {', '.join(sorted(missing))}")
    times = []
    for key in ("leave", "back"):
        try:
            times.append(dt.time.fromisoformat(str(row[key])))
        except ValueError:
            raise PlannerInputError(f"{name}.{key} = {row[key]!r}: a time \"HH:MM\"") from None
    return Outing(times[0], times[1],
                  finite(f"{name}.target_soc_pct", row["target_soc_pct"], 0.0, 100.0),
                  finite(f"{name}.trip_kwh", row["trip_kwh"], 0.0, 300.0))


def departures_from_table(table: Mapping[str, object]) -> DeparturePlan:
    unknown = set(table) - set(WEEKDAYS) - {"override"}
    if unknown:
        raise PlannerInputError(f"departures: unknown key(s) {', '.join(sorted(unknown))} "
                                f"(weekday names: {', '.join(WEEKDAYS)})")
    weekly = {WEEKDAYS.index(k): _outing(f"departures.{k}", v)
              for k, v in table.items() if k in WEEKDAYS}
    overrides: dict[dt.date, Outing | None] = {}
    raw = table.get("override", [])
    if not isinstance(raw, list):
        raise PlannerInputError("departures.override: an array of tables")
    for k, row in enumerate(raw):
        name = f"departures.override[{k}]"
        if not isinstance(row, dict) or not isinstance(row.get("date"), dt.date):
            raise PlannerInputError(f"{name}: needs date = YYYY-MM-DD (a TOML date)")
        date = row["date"]
        if row.get("stay") is True:
            if set(row) - {"date", "stay"}:
                raise PlannerInputError(f"{name}: stay = true takes no other keys")
            overrides[date] = None
        else:
            overrides[date] = _outing(name, row)
    return DeparturePlan(weekly, overrides)
