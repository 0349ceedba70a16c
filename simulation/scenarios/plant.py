"""``[plant]`` -> :class:`hal.sim.params.PlantParams` (only the keys given change)."""

from __future__ import annotations

import dataclasses
from typing import Any

from controller.config.model import Config
from hal.sim.params import PlantParams

# scenario key -> (attribute path in PlantParams)
_PATHS: dict[str, tuple[str, ...]] = {
    "nominal_voltage_v": ("nominal_voltage_v",),
    "nominal_frequency_hz": ("nominal_frequency_hz",),
    "ev_present": ("ev_present",),
    "ev_soc_pct": ("ev_soc_pct",),
    "ev_capacity_kwh": ("battery", "capacity_kwh"),
    "ev_cells_in_series": ("battery", "cells_in_series"),
    "ev_internal_resistance_ohm": ("battery", "internal_resistance_ohm"),
    "ev_max_charge_current_a": ("battery", "max_charge_current_a"),
    "ev_max_discharge_current_a": ("battery", "max_discharge_current_a"),
    "ev_max_voltage_v": ("battery", "max_voltage_v"),
    "ev_min_soc_pct": ("battery", "min_soc_pct"),
    "ev_profile": ("ev_profile",),
    "ev_timeout_scale": ("ev_timeout_scale",),
    "home_load_w": ("home_load_w",),
    "pv_w": ("pv_w",),
    "v2l_load_w": ("v2l_load_w",),
    "inverter_rated_power_w": ("inverter", "rated_power_w"),
    "inverter_ramp_w_per_s": ("inverter", "ramp_w_per_s"),
    "inverter_efficiency": ("inverter", "efficiency"),
    "inverter_command_timeout_s": ("inverter_command_timeout_s",),
    "contactor_close_delay_s": ("contactor", "close_delay_s"),
    "contactor_open_delay_s": ("contactor", "open_delay_s"),
    "precharge_resistance_ohm": ("precharge_resistance_ohm",),
    "dc_link_capacitance_f": ("dc_link_capacitance_f",),
    "plant_step_s": ("plant_step_s",),
    "meter_noise": ("meter_noise",),
}


def plant_params(plant: dict[str, Any], seed: int, config: Config) -> PlantParams:
    """Defaults follow the controller config (nominal grid) and the control period."""
    params = PlantParams(seed=seed,
                         nominal_voltage_v=config.grid.nominal_voltage_v,
                         nominal_frequency_hz=config.grid.nominal_frequency_hz)
    # The plant never steps coarser than the control loop.
    params.plant_step_s = min(params.plant_step_s, config.control.tick_s)
    for key, value in plant.items():
        path = _PATHS[key]
        target: Any = params
        for attr in path[:-1]:
            target = getattr(target, attr)
        if not hasattr(target, path[-1]):
            raise KeyError(f"PlantParams has no {'.'.join(path)}")
        setattr(target, path[-1], value)
    return dataclasses.replace(params)
