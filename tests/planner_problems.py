"""Small planning problems the planner tests share (short horizons, fixed numbers)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from gateway.planner.model import Battery, Limits, Problem, Trip

START = dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def tou_prices(n: int, start_hour: float = 18.0) -> np.ndarray:
    """Peak 16-21 h 0.45, night 0-7 h 0.12, else 0.25 (per kWh)."""
    h = (np.arange(n) * 0.25 + start_hour) % 24
    return np.where((h >= 16) & (h < 21), 0.45, np.where(h < 7, 0.12, 0.25))


def evening_problem(n: int = 96, soc: float = 40.0, *, v2g: bool = False,
                    trips: tuple[Trip, ...] = (Trip(52, 92, 80.0, 12.0),),
                    battery: Battery | None = None, prices: np.ndarray | None = None,
                    export: np.ndarray | None = None, **limits: float) -> Problem:
    """From 18:00: a peak evening, cheap night, departure 07:00 for 10 h (by default)."""
    h = (np.arange(n) * 0.25 + 18) % 24
    load = 0.4 + 1.1 * ((h >= 17) & (h < 22))
    pv = np.clip(4.0 * np.sin((h - 7) / 12 * np.pi), 0.0, None)
    return Problem(START, tou_prices(n) if prices is None else prices,
                   np.full(n, 0.08) if export is None else export, pv,
                   load, soc_pct=soc, plugged_now=True, trips=trips,
                   battery=battery or Battery(),
                   limits=Limits(v2g_allowed=v2g, export_cap_kw=5.0 if v2g else 0.0,
                                 **limits))
