"""NTC divider ratio to degrees Celsius (beta equation), with open and short recognised."""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.safety_settings import TemperatureSettings

KELVIN = 273.15
T25_K = 298.15


@dataclass(frozen=True, slots=True)
class NtcReading:
    celsius: float | None  # None when the sensor is open or shorted
    fault: str | None  # "open", "short" or None


def ntc_celsius(ratio: float, s: TemperatureSettings) -> NtcReading:
    """``ratio`` = divider output / reference, NTC to ground and ``pullup_ohm`` to the reference."""
    if ratio >= s.open_ratio:
        return NtcReading(None, "open")
    if ratio <= s.short_ratio:
        return NtcReading(None, "short")
    r = s.pullup_ohm * ratio / (1.0 - ratio)
    inv_t = 1.0 / T25_K + math.log(r / s.ntc_r25_ohm) / s.ntc_beta_k
    return NtcReading(1.0 / inv_t - KELVIN, None)
