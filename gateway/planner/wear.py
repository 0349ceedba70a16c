"""The battery-wear model: what an hour at some SoC and a kWh through the pack cost in money.

Two mechanisms, each priced against the pack's replacement value (docs/planner.md, "Wear"):

- **Cycle wear**: a kWh in or out of the battery costs
  ``pack_price_per_kwh / (2 x cycle_life_efc x usable_fraction)`` (the pack delivers
  ``cycle_life_efc`` equivalent full cycles, i.e. twice that many capacities of throughput, before
  end of life). With the defaults (150 per gross kWh, 3000 cycles, 90 % usable) that is 0.028 per
  kWh, inside the 0.01-0.05 range the literature gives (Uddin et al. 2017; Wei et al. 2022).
- **Calendar wear**: capacity fade per year rises with SoC (piecewise linear, convex; the shape of
  Schmalstieg et al. 2014 and Keil et al. 2016 for NMC cells) and doubles every
  ``temperature_doubling_c`` kelvin above ``reference_temperature_c`` (an Arrhenius rule of
  thumb). A fade of ``end_of_life_fade_pct`` uses up the pack, so an hour at SoC ``s`` costs
  ``pack value x (fade(s) - fade(0)) / end_of_life_fade_pct / 8760``: only the part of calendar
  ageing a plan can change is priced (an empty battery ages too, whatever the plan). Time spent
  full is the dearest.

Plus two hard limits: a C-rate (power <= ``max_c_rate`` x capacity) and a daily discharge
budget. Every parameter is the owner's to set: chemistry and climate decide (Dubarry et al. 2017).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

HOURS_PER_YEAR = 8760.0
DEFAULT_CALENDAR = ((0.0, 1.0), (50.0, 1.5), (80.0, 2.2), (100.0, 3.5))  # (SoC %, fade %/year)


class WearInputError(ValueError):
    """A wear parameter out of range; the message names it."""


def _check(name: str, value: float, lo: float, hi: float) -> None:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise WearInputError(f"wear.{name} = {value}: must be a finite number in [{lo:g}, {hi:g}]")


@dataclass(frozen=True, slots=True)
class WearModel:
    """Battery wear in money; see the module doc for the model and its sources."""

    pack_price_per_kwh: float = 150.0  # replacement price per gross kWh
    cycle_life_efc: float = 3000.0  # equivalent full cycles to end of life from cycling alone
    usable_fraction: float = 0.9  # usable / gross capacity
    calendar_fade: tuple[tuple[float, float], ...] = DEFAULT_CALENDAR
    end_of_life_fade_pct: float = 20.0
    reference_temperature_c: float = 25.0
    temperature_doubling_c: float = 10.0
    default_temperature_c: float = 20.0
    max_c_rate: float = 1.0  # |power| <= max_c_rate x usable capacity
    daily_discharge_kwh: float = 60.0  # discharge budget per calendar day (AC side)

    def __post_init__(self) -> None:
        _check("pack_price_per_kwh", self.pack_price_per_kwh, 0.0, 10_000.0)
        _check("cycle_life_efc", self.cycle_life_efc, 10.0, 1e6)
        _check("usable_fraction", self.usable_fraction, 0.1, 1.0)
        _check("end_of_life_fade_pct", self.end_of_life_fade_pct, 1.0, 100.0)
        _check("reference_temperature_c", self.reference_temperature_c, -40.0, 80.0)
        _check("temperature_doubling_c", self.temperature_doubling_c, 1.0, 100.0)
        _check("default_temperature_c", self.default_temperature_c, -60.0, 80.0)
        _check("max_c_rate", self.max_c_rate, 0.01, 10.0)
        _check("daily_discharge_kwh", self.daily_discharge_kwh, 0.0, 10_000.0)
        points = self.calendar_fade
        if len(points) < 2:
            raise WearInputError("wear.calendar_fade: needs at least two (soc_pct, fade) points")
        for soc, fade in points:
            _check("calendar_fade soc_pct", soc, 0.0, 100.0)
            _check("calendar_fade pct_per_year", fade, 0.0, 100.0)
        socs = [p[0] for p in points]
        if socs[0] != 0.0 or socs[-1] != 100.0 or any(b <= a for a, b in itertools.pairwise(socs)):
            raise WearInputError("wear.calendar_fade: SoC points must rise strictly from 0 to "
                                 f"100, got {socs}")
        slopes = self.calendar_slopes()
        if any(b < a - 1e-12 for a, b in itertools.pairwise(slopes)):
            raise WearInputError("wear.calendar_fade: the fade must be convex in SoC (each "
                                 "segment at least as steep as the one before) so that the "
                                 "planner's linear program prices it exactly")

    @property
    def cycle_cost_per_kwh(self) -> float:
        """Money per kWh into or out of the battery (battery side)."""
        return self.pack_price_per_kwh / (2.0 * self.cycle_life_efc * self.usable_fraction)

    def calendar_slopes(self) -> list[float]:
        """Fade (%/year) per SoC percent of each segment."""
        pts = self.calendar_fade
        return [(f1 - f0) / (s1 - s0) for (s0, f0), (s1, f1) in itertools.pairwise(pts)]

    def temperature_factor(self, temperature_c: float) -> float:
        return float(2.0 ** ((temperature_c - self.reference_temperature_c)
                             / self.temperature_doubling_c))

    def fade_pct_per_year(self, soc_pct: float) -> float:
        """Calendar fade at 25 °C at ``soc_pct`` (clamped to 0..100), linear between points."""
        s = min(max(soc_pct, 0.0), 100.0)
        pts = self.calendar_fade
        for (s0, f0), (s1, f1) in itertools.pairwise(pts):
            if s <= s1:
                return f0 + (f1 - f0) * (s - s0) / (s1 - s0)
        return pts[-1][1]

    def pack_value(self, usable_kwh: float) -> float:
        return self.pack_price_per_kwh * usable_kwh / self.usable_fraction

    def calendar_cost_per_h(self, soc_pct: float, temperature_c: float, usable_kwh: float) -> float:
        """Money per hour spent at ``soc_pct`` and ``temperature_c`` (above the fade at 0 %)."""
        per_pct = self.pack_value(usable_kwh) / self.end_of_life_fade_pct / HOURS_PER_YEAR
        excess = self.fade_pct_per_year(soc_pct) - self.calendar_fade[0][1]
        return per_pct * excess * self.temperature_factor(temperature_c)

    def calendar_lines(self, temperature_c: float, usable_kwh: float) -> list[tuple[float, float]]:
        """The calendar cost per hour as lines ``a + b x soc_kwh`` whose maximum is the cost
        (convex, so a linear program can price it with one epigraph variable per step)."""
        per_pct = (self.pack_value(usable_kwh) / self.end_of_life_fade_pct / HOURS_PER_YEAR
                   * self.temperature_factor(temperature_c))
        lines = []
        pts = self.calendar_fade
        for (s0, f0), (s1, f1) in itertools.pairwise(pts):
            slope_per_pct = (f1 - f0) / (s1 - s0)
            b = per_pct * slope_per_pct * 100.0 / usable_kwh  # per kWh of SoC
            a = per_pct * (f0 - pts[0][1] - slope_per_pct * s0)
            lines.append((a, b))
        return lines
