"""Initial conditions and constants of the simulated plant (a scenario's ``[plant]`` table)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hal.sim.plant.battery import BatteryParams
from hal.sim.plant.contactor import ContactorParams
from hal.sim.plant.inverter import InverterParams


@dataclass
class PlantParams:
    """Everything the simulated world starts from. Defaults: a 240 V / 60 Hz home, 11 kW
    inverter, a 60 kWh EV plugged in at 50 %, 1.5 kW of home load and no PV."""

    nominal_voltage_v: float = 240.0
    nominal_frequency_hz: float = 60.0
    ev_present: bool = True
    ev_soc_pct: float = 50.0
    ev_profile: str = "leaf-v2h"  # the simulated vehicle's behaviour (hal/sim/ev/profiles.py)
    # The vehicle's own windows (the charger's frames stopping: 1 s; no answer to its request:
    # 4 s) times this. A time-compressed run (a control tick near 1 s sends the charger's frames
    # once a tick and starts in seconds, not 100 ms) scales them as it scales the controller's.
    ev_timeout_scale: float = 1.0
    battery: BatteryParams = field(default_factory=BatteryParams)
    inverter: InverterParams = field(default_factory=InverterParams)
    contactor: ContactorParams = field(default_factory=ContactorParams)
    home_load_w: float = 1500.0
    pv_w: float = 0.0
    v2l_load_w: float = 0.0
    dc_link_capacitance_f: float = 0.002
    precharge_resistance_ohm: float = 40.0
    dc_link_bleed_tau_s: float = 20.0
    inverter_command_timeout_s: float = 0.1
    plant_step_s: float = 0.005
    seed: int = 1
    meter_noise: bool = True
