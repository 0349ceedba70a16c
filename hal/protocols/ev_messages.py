"""What the EV tells the charger (CHAdeMO vehicle frames), as typed values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EvReport:
    """The newest complete set of vehicle frames (0x100, 0x101, 0x102, 0x200).

    ``max_discharge_current_a`` is 0 for a vehicle that is not discharge (V2H) compatible.
    The fields with defaults are the 0x102 status bits the charger side of the sequence reads
    (``controller/ev/chademo/``); a plain report leaves them at a car's resting values.
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
    contactor_open: bool = True  # 102.5.3: the EV's contactors open / welding check done
    normal_stop_request: bool = False  # 102.5.4
    shift_not_park: bool = False  # 102.5.1
    system_fault: bool = False  # 102.5.2: the vehicle's charging system reports a fault
    charged_rate_ref: int = 100  # 0x100 byte 6: ChargedRate's reference (240/255 = placeholder)
