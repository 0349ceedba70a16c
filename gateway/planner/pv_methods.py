"""PV forecasts from a household's own measurements, beyond the seven-day mean (issue 22).

Pure functions over one-day profiles (96 slots of 15 minutes from local midnight, kW); the
service's ``PvHistory`` and ``bench/planner_gap.py`` both call them, so the benchmark measures
this code. Every parameter is a named constant fixed before the benchmark's runs
(docs/planner.md, "Closing the gap"); nothing here looks at anything measured after "now":
``today`` holds today's measured slots, and only the slots before ``now_slot`` are read.

- ``intraday_ratio`` / ``intraday_corrected``: today's measured PV over the forecast for the same
  slots (a clearness persistence, clamped, only when the forecast for those slots holds a
  minimum of energy) scales the rest of today, fading back to the forecast with a time constant;
  tomorrow is unchanged.
- ``analogue_profiles``: the days among the last ``ANALOGUE_DAYS`` whose measured morning is
  nearest to today's; the rest of today from their mean, the days after from their next days'.
- ``weighted_mean``: an exponentially weighted mean of the past days (a stated half-life).

Measurements that are not finite, negative or above ``MAX_READING_KW`` count as not measured;
every result is finite and >= 0 when its base profiles are (``PvHistory`` keeps only such
measurements).
"""

from __future__ import annotations

import math

import numpy as np

from gateway.planner.model import Array

DAY = 96
STEP_H = 0.25
INTRADAY_TAU_H = 3.0  # the correction fades to the forecast with this time constant
INTRADAY_MIN_KWH = 0.5  # the forecast energy of the measured slots needed for a ratio
INTRADAY_RATIO_MIN, INTRADAY_RATIO_MAX = 0.2, 2.0
ANALOGUE_DAYS = 21  # the days searched for analogues of today's morning
ANALOGUE_K = 5  # how many nearest days make the profile
ANALOGUE_MIN_KWH = 0.5  # today's forecast energy so far needed before a morning means anything
EW_HALF_LIFE_DAYS = 4.0  # the exponentially weighted mean's half-life
EW_DAYS = 28  # ... over this many days
MAX_READING_KW = 1000.0  # a household's meter reading above a megawatt is a glitch


def _measured(today: Array, now_slot: int) -> Array:
    """The slots of today before ``now_slot`` with a usable measurement (finite, >= 0, at most
    ``MAX_READING_KW``)."""
    seen = np.zeros(DAY, dtype=bool)
    head = today[:max(0, min(now_slot, DAY))]
    with np.errstate(invalid="ignore"):
        seen[:len(head)] = np.isfinite(head) & (head >= 0) & (head <= MAX_READING_KW)
    return seen


def intraday_ratio(base: Array, today: Array, now_slot: int) -> float | None:
    """Today's measured energy over ``base``'s for the same slots before ``now_slot``, clamped
    to [``INTRADAY_RATIO_MIN``, ``INTRADAY_RATIO_MAX``]; None when ``base`` holds less than
    ``INTRADAY_MIN_KWH`` there (before sunrise a ratio means nothing)."""
    seen = _measured(today, now_slot)
    expected = float(base[seen].sum()) * STEP_H
    if not math.isfinite(expected) or expected < INTRADAY_MIN_KWH:
        return None
    ratio = float(today[seen].sum()) * STEP_H / expected
    return min(max(ratio, INTRADAY_RATIO_MIN), INTRADAY_RATIO_MAX)


def intraday_corrected(laid: Array, now_slot: int, ratio: float | None) -> Array:
    """``laid`` (a forecast over a horizon starting at today's ``now_slot``) with the rest of
    today scaled by ``1 + (ratio - 1) exp(-h / INTRADAY_TAU_H)``, ``h`` hours ahead; from
    midnight on unchanged."""
    if ratio is None:
        return laid
    rest = min(max(DAY - now_slot, 0), len(laid))
    out = laid.copy()
    out[:rest] *= intraday_factor(ratio, np.arange(rest, dtype=float) * STEP_H)
    return out


def intraday_factor(ratio: float, hours_ahead: Array) -> Array:
    """The correction ``1 + (ratio - 1) exp(-h / INTRADAY_TAU_H)`` at ``h`` hours ahead."""
    return np.asarray(1.0 + (ratio - 1.0) * np.exp(-np.maximum(hours_ahead, 0.0)
                                                    / INTRADAY_TAU_H))


def analogue_profiles(days: Array, today: Array, now_slot: int, k: int = ANALOGUE_K
                      ) -> tuple[Array, Array] | None:
    """(the rest of today's profile, the profile from midnight on) from the ``k`` days of
    ``days`` (whole measured days, oldest first, the last one yesterday) whose slots before
    ``now_slot`` are nearest to today's (Euclidean); the later profile is the mean of those
    days' next days, so a candidate needs a next day (yesterday is none). None with fewer than
    two days or while today's slots so far expect less than ``ANALOGUE_MIN_KWH`` on the mean."""
    if len(days) < 2:
        return None
    seen = _measured(today, now_slot)
    if float(days.mean(axis=0)[seen].sum()) * STEP_H < ANALOGUE_MIN_KWH:
        return None
    candidates = days[:-1]
    dist = np.sqrt(((candidates[:, seen] - today[seen]) ** 2).sum(axis=1))
    pick = np.argsort(dist, kind="stable")[:k]
    return candidates[pick].mean(axis=0), days[pick + 1].mean(axis=0)


def weighted_mean(days: Array, half_life_days: float = EW_HALF_LIFE_DAYS) -> Array:
    """The mean of ``days`` (oldest first, the last one yesterday) weighted by
    ``0.5 ** (age / half_life_days)``."""
    ages = np.arange(len(days), 0, -1, dtype=float)
    weights = 0.5 ** (ages / half_life_days)
    return np.asarray((weights[:, None] * days).sum(axis=0) / weights.sum())


def laid(profile: Array, now_slot: int, n: int) -> Array:
    """A one-day profile laid over ``n`` steps from today's ``now_slot``."""
    return np.resize(np.roll(profile, -now_slot), n)


def laid_two(today_rest: Array, later: Array, now_slot: int, n: int) -> Array:
    """The rest of today from ``today_rest``, from midnight on ``later``, over ``n`` steps."""
    rest = max(DAY - now_slot, 0)
    return np.concatenate([today_rest[now_slot:], np.resize(later, max(n - rest, 0))])[:n]
