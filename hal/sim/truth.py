"""Ground truth the simulated chips measure: what the plant really is, before any sensor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeterTruth:
    """The true electrical state at the PCC meter (``voltage_rms_v == 0`` means a dead bus).

    Signs follow :class:`hal.interfaces.meter.AcMeterReading`: grid power import positive,
    PV power generation positive.
    """

    voltage_rms_v: float
    frequency_hz: float
    grid_current_rms_a: float
    grid_power_w: float
    grid_reactive_var: float
    pv_current_rms_a: float
    pv_power_w: float
