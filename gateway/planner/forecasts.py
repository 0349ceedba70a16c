"""PV and home-load forecasts: from a file, or from the planner's own models.

- PV from a CSV ``start,pv_kw`` when one is given (a weather service's forecast); otherwise
  the mean measured profile of the last seven days, slot by slot, over the days the service
  measured every 15 minutes of, the rest of today corrected by today's PV measured so far
  (``PvHistory``; in bench/planner_gap.py the mean beat yesterday's profile in seven of eight
  windows, the correction helped in six of eight, and yesterday's profile beat the clear-sky
  model in three of four); otherwise a clear-sky model (Haurwitz global horizontal irradiance
  from the sun's elevation, times the array's peak power and a performance ratio) scaled by
  persistence: yesterday's measured PV energy over yesterday's clear-sky energy.
- Home load learned from the controller's own history: the mean per 15-minute slot of the day,
  weekdays and weekends apart (the service's model forgets: ``LOAD_HALF_LIFE_DAYS``); slots
  without history use the documented fallback profile.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gateway.planner import pv_methods
from gateway.planner.model import Array, PlannerInputError

# Fallback household profile: share of a day's energy per hour (sums to 1), an average of
# weekday and weekend shapes of a standard household load profile (BDEW H0, winter and summer
# averaged, rounded): low at night, a morning shoulder, a midday step and an evening peak.
FALLBACK_SHAPE = (0.026, 0.022, 0.020, 0.019, 0.019, 0.022, 0.032, 0.042, 0.046, 0.046, 0.047,
                  0.050, 0.054, 0.050, 0.044, 0.040, 0.041, 0.047, 0.059, 0.064, 0.061, 0.057,
                  0.050, 0.042)
FALLBACK_KWH_PER_DAY = 9.6  # 3500 kWh a year
PERFORMANCE_RATIO = 0.8
PV_HISTORY_DAYS = 7  # the PV forecast is the mean of up to this many measured days
LOAD_HALF_LIFE_DAYS = 14.0  # the service's load model forgets with this half-life
MAX_READING_KW = pv_methods.MAX_READING_KW  # a reading above a megawatt is a glitch


def _glitch(kw: float) -> bool:
    """Not finite, negative or beyond ``MAX_READING_KW``: no sample."""
    return not math.isfinite(kw) or kw < 0 or kw > MAX_READING_KW


def fallback_load(times: Iterable[dt.datetime], kwh_per_day: float = FALLBACK_KWH_PER_DAY
                  ) -> Array:
    shape = np.asarray(FALLBACK_SHAPE) / sum(FALLBACK_SHAPE)
    return np.array([kwh_per_day * shape[t.hour] for t in times])  # kWh per hour = kW


@dataclass
class LoadModel:
    """Mean home load per (weekend?, slot of the day), learned from measured samples; with a
    ``half_life_days`` each sample's weight halves every that many days after it was measured
    (a household that changes with the seasons is followed), without one the mean since
    start-up."""

    sums: Array
    counts: Array
    half_life_days: float | None = None
    last: Array = field(default_factory=lambda: np.full((2, 96), np.nan))  # POSIX s per slot

    @classmethod
    def empty(cls, half_life_days: float | None = None) -> LoadModel:
        if half_life_days is not None and not (math.isfinite(half_life_days)
                                               and half_life_days > 0):
            raise PlannerInputError(f"load half-life {half_life_days} days: must be a finite "
                                    "number > 0")
        return cls(np.zeros((2, 96)), np.zeros((2, 96)), half_life_days)

    def learn(self, t: dt.datetime, load_kw: float) -> None:
        """One measured sample (non-finite, negative or absurd ones, ``_glitch``, are ignored:
        a glitch, not a load)."""
        if _glitch(load_kw):
            return
        k, slot = int(t.weekday() >= 5), t.hour * 4 + t.minute // 15
        if self.half_life_days is not None:
            now, before = t.timestamp(), self.last[k, slot]
            if math.isfinite(before):  # a clock stepped back forgets nothing
                decay = 0.5 ** (max(now - before, 0.0) / (self.half_life_days * 86400.0))
                self.sums[k, slot] *= decay
                self.counts[k, slot] *= decay
            self.last[k, slot] = now
        self.sums[k, slot] += load_kw
        self.counts[k, slot] += 1

    def forecast(self, times: list[dt.datetime]) -> Array:
        fallback = fallback_load(times)
        out = np.empty(len(times))
        for i, t in enumerate(times):
            k, slot = int(t.weekday() >= 5), t.hour * 4 + t.minute // 15
            c = self.counts[k, slot]
            out[i] = self.sums[k, slot] / c if c > 0 else fallback[i]
        return out


@dataclass
class PvHistory:
    """Measured PV power per 15-minute slot of today and the ``PV_HISTORY_DAYS`` days before
    it (the latest sample wins)."""

    days: dict[dt.date, Array] = field(default_factory=dict)

    def learn(self, t: dt.datetime, pv_kw: float) -> None:
        """One measured sample (non-finite, negative or absurd ones, ``_glitch``, are
        ignored)."""
        if _glitch(pv_kw):
            return
        day = self.days.setdefault(t.date(), np.full(96, np.nan))
        day[t.hour * 4 + t.minute // 15] = pv_kw
        for old in [d for d in self.days
                    if d < t.date() - dt.timedelta(days=PV_HISTORY_DAYS)]:
            del self.days[old]

    def yesterday_kwh(self, today: dt.date) -> float | None:
        """Yesterday's energy (the measured slots), None without any."""
        day = self.days.get(today - dt.timedelta(days=1))
        if day is None or np.isnan(day).all():
            return None
        return float(np.nansum(day) * 0.25)

    def forecast(self, times: list[dt.datetime]) -> Array | None:
        """The mean profile of the fully measured days among the ``PV_HISTORY_DAYS`` before the
        first step's day, at each step's slot, the rest of that day corrected by what today
        has measured so far (``pv_methods.intraday_ratio``: today's measured PV over that
        mean's for the slots before the first step, fading back to the mean in
        ``INTRADAY_TAU_H``); None without one such day. (bench/planner_gap.py: the seven-day
        mean beat yesterday's profile in seven of eight 28-day windows; the correction beat the
        plain mean in six of eight; docs/planner.md, "Closing the gap, part 2".)"""
        full = self._full_days(times)
        if not full:
            return None
        base = np.mean(full, axis=0)
        out = _laid(base, times)
        first = times[0]
        now_slot = first.hour * 4 + first.minute // 15
        ratio = pv_methods.intraday_ratio(
            base, self.days.get(first.date(), np.full(96, np.nan)), now_slot)
        if ratio is None:
            return out
        today = np.array([t.date() == first.date() for t in times])
        ahead = np.array([(t - first).total_seconds() / 3600.0 for t in times])
        out[today] *= pv_methods.intraday_factor(ratio, ahead[today])
        return out

    def scenarios(self, times: list[dt.datetime]) -> list[Array]:
        """Each fully measured day among the ``PV_HISTORY_DAYS`` before the first step's day,
        laid over ``times`` like ``forecast`` (the PV scenarios of the risk-aware plan,
        ``optimiser.solve_scenarios``); oldest first, empty without one such day."""
        return [_laid(day, times) for day in self._full_days(times)]

    def _full_days(self, times: list[dt.datetime]) -> list[Array]:
        if not times:
            return []
        first = times[0].date()
        return [self.days[d] for d in sorted(self.days)
                if first - dt.timedelta(days=PV_HISTORY_DAYS) <= d < first
                and not np.isnan(self.days[d]).any()]


def _laid(profile: Array, times: list[dt.datetime]) -> Array:
    """A one-day profile (96 slots from midnight) at each step's slot of the day."""
    return np.array([profile[t.hour * 4 + t.minute // 15] for t in times])


def sun_elevation_deg(t: dt.datetime, lat: float, lon: float) -> float:
    """The sun's elevation (NOAA's low-accuracy formulas, within about a degree)."""
    utc = t.astimezone(dt.UTC)
    day = utc.timetuple().tm_yday
    hour = utc.hour + utc.minute / 60
    g = 2 * math.pi / 365 * (day - 1 + (hour - 12) / 24)
    decl = (0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
            + 0.000907 * math.sin(2 * g))
    eqtime = 229.18 * (0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
                       - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g))
    solar_min = hour * 60 + eqtime + 4 * lon
    ha = math.radians(solar_min / 4 - 180)
    la = math.radians(lat)
    cos_z = math.sin(la) * math.sin(decl) + math.cos(la) * math.cos(decl) * math.cos(ha)
    return 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_z))))


def clear_sky_pv(times: list[dt.datetime], lat: float, lon: float, kwp: float) -> Array:
    """PV power (kW) under a clear sky: Haurwitz GHI x kWp / 1000 W/m2 x performance ratio,
    each step at its middle (a horizontal array; a first guess, not a plant model)."""
    out = np.zeros(len(times))
    for i, t in enumerate(times):
        elev = sun_elevation_deg(t + dt.timedelta(minutes=7.5), lat, lon)
        if elev > 0:
            cz = math.sin(math.radians(elev))
            ghi = 1098.0 * cz * math.exp(-0.057 / cz)
            out[i] = kwp * ghi / 1000.0 * PERFORMANCE_RATIO
    return out


def persistence_pv(times: list[dt.datetime], lat: float, lon: float, kwp: float,
                   yesterday_kwh: float | None, max_index: float = 1.2) -> Array:
    """Clear-sky PV scaled by yesterday's clear-sky index (1 when yesterday is unknown), the
    index at most ``max_index`` (the model is a horizontal array: a tilted one facing the
    sun yields more in winter)."""
    clear = clear_sky_pv(times, lat, lon, kwp)
    if yesterday_kwh is None or not math.isfinite(yesterday_kwh) or yesterday_kwh < 0:
        return clear
    day0 = times[0] - dt.timedelta(days=1)
    day0 = day0.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = [day0 + dt.timedelta(minutes=15 * q) for q in range(96)]
    clear_kwh = float(clear_sky_pv(yesterday, lat, lon, kwp).sum() * 0.25)
    index = min(yesterday_kwh / clear_kwh, max_index) if clear_kwh > 0 else 1.0
    return clear * index


def read_series(path: Path, column: str, times: list[dt.datetime]) -> Array:
    """A forecast CSV ``start,<column>`` (ISO 8601 with offset, kW >= 0), each row holding
    until the next; '#' lines are comments. Every step of ``times`` must be covered."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if ln.strip() and not ln.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as err:
        raise PlannerInputError(f"{path}: cannot read: {err}") from err
    if not lines or [c.strip() for c in lines[0].split(",")] != ["start", column]:
        raise PlannerInputError(f"{path}: the header must be start,{column}")
    starts: list[float] = []
    values: list[float] = []
    for k, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if len(cells) != 2:
            raise PlannerInputError(f"{path} row {k}: {len(cells)} cells, need 2")
        try:
            t = dt.datetime.fromisoformat(cells[0].strip())
            v = float(cells[1])
        except ValueError:
            raise PlannerInputError(f"{path} row {k}: {line!r}: need an ISO 8601 time and a "
                                    "number") from None
        if t.tzinfo is None:
            raise PlannerInputError(f"{path} row {k}: {cells[0]!r} needs a UTC offset")
        if not math.isfinite(v) or v < 0:
            raise PlannerInputError(f"{path} row {k}: {column} = {cells[1].strip()}: must be a "
                                    "finite number >= 0")
        if starts and t.timestamp() <= starts[-1]:
            raise PlannerInputError(f"{path} row {k}: not after the row before")
        starts.append(t.timestamp())
        values.append(v)
    if not starts:
        raise PlannerInputError(f"{path}: no rows")
    stamps = np.asarray(starts)
    out = np.empty(len(times))
    for i, t in enumerate(times):
        j = int(np.searchsorted(stamps, t.timestamp(), side="right")) - 1
        if j < 0:
            raise PlannerInputError(f"{path}: starts after {t.isoformat()}")
        out[i] = values[j]
    return out

