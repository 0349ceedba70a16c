"""What the EV tells the charger (CHAdeMO vehicle frames), as typed values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EvReport:
    """The newest complete set of vehicle frames (0x100, 0x101, 0x102, 0x200).

    ``max_discharge_current_a`` is 0 for a vehicle that is not discharge (V2H) compatible.
    """

    soc_pct: float
    capacity_kwh: float
    min_battery_voltage_v: float
    max_battery_voltage_v: float
    target_voltage_v: float
    charge_current_request_a: float
    max_discharge_current_a: float
    min_discharge_voltage_v: float
    min_discharge_soc_pct: float
    charging_enabled: bool
    discharge_compatible: bool
    fault_flags: int
    protocol_number: int
