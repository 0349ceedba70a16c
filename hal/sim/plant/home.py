"""The home: a load and a PV array behind the home panel (constant or a profile)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence


class Profile:
    """A piecewise-constant value over plant time: ``[(t_s, value), ...]`` sorted by time."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        if not points:
            raise ValueError("a profile needs at least one point")
        self._times = [t for t, _ in points]
        self._values = [v for _, v in points]
        if self._times != sorted(self._times):
            raise ValueError("profile points must be sorted by time")

    def at(self, t: float) -> float:
        i = bisect.bisect_right(self._times, t) - 1
        return self._values[max(i, 0)]


class Home:
    """Home consumption and PV generation (both >= 0), settable or following a profile."""

    def __init__(self, load_w: float, pv_w: float, power_factor: float = 0.95) -> None:
        self.load_w = load_w
        self.pv_w = pv_w
        self.power_factor = power_factor
        self.load_profile: Profile | None = None
        self.pv_profile: Profile | None = None

    def step(self, now: float) -> None:
        if self.load_profile is not None:
            self.load_w = self.load_profile.at(now)
        if self.pv_profile is not None:
            self.pv_w = self.pv_profile.at(now)

    @property
    def load_var(self) -> float:
        pf = self.power_factor
        return float(self.load_w * ((1.0 - pf * pf) ** 0.5) / pf)
