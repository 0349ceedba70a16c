"""The electrical sides of a plant step: the DC link and battery current (:func:`step_dc`), and
the AC side (:func:`step_ac`): power at the PCC, the home bus voltage, energy, what is tracked.

Split from ``hal/sim/world.py`` (the world's state and handles); the world calls both once per
plant step after the inverter and the island have moved, DC first.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hal.sim.plant.battery import SECONDS_PER_HOUR

if TYPE_CHECKING:
    from hal.sim.world import SimWorld

EXPORT_THRESHOLD_FRACTION = 0.01  # export counts above 1 % of the inverter rating
HOME_ENERGISED_PU = 0.5
PCC_DEAD_PU = 0.05
KWH_PER_WS = 1.0 / SECONDS_PER_HOUR / 1000.0


def step_ac(world: SimWorld, now: float, dt: float, k: dict[str, bool], external: bool) -> None:
    """One plant step of the AC side: the grid import, the home bus, the energy totals, and
    what ground truth tracks at the home and the PCC (energised, cleared, exporting)."""
    inv_w = world.inverter.ac_power_w if k["ac"] else 0.0
    energy = world.truth.energy
    pv = world.home.pv_w if world.pv_running() else 0.0
    inv_var = world.inverter.reactive_power_var if k["ac"] else 0.0
    world.grid_import_var = 0.0
    if external:
        world.grid_import_w = world.home.load_w - pv + inv_w
        # Consumer convention, as the inverter's Q_Ac: + = absorbed from the utility.
        world.grid_import_var = world.home.load_var + inv_var
        world.home_bus_v = world.grid.voltage_v
        from_ev = min(world.home.load_w, max(0.0, -inv_w))
    elif world.islanded():
        world.grid_import_w = 0.0  # the utility breaker is open
        world.home_bus_v = world.island.voltage_v
        from_ev = max(0.0, -inv_w)
    else:
        world.grid_import_w = 0.0
        forming = world.inverter.mode_name == "grid-forming" and k["ac"]
        world.home_bus_v = world.params.nominal_voltage_v if forming else 0.0
        from_ev = world.home.load_w if forming else 0.0
    energy.grid_import_kwh += max(world.grid_import_w, 0.0) * dt * KWH_PER_WS
    energy.grid_export_kwh += max(-world.grid_import_w, 0.0) * dt * KWH_PER_WS
    energy.home_from_ev_kwh += from_ev * dt * KWH_PER_WS
    energy.pv_kwh += pv * dt * KWH_PER_WS
    energy.ev_charged_kwh = world.battery.charged_kwh
    energy.ev_discharged_kwh = world.battery.discharged_kwh
    nominal = world.params.nominal_voltage_v
    energised = world.home_bus_v > HOME_ENERGISED_PU * nominal
    world.truth.track(now, "home", energised,
                     "home_energized" if energised else "home_deenergized")
    # IEEE 1547.1 clearing: PCC voltage and inverter current below 0.05 p.u. and staying.
    pcc_v = world.home_bus_v if k["grid"] else world.grid.voltage_v
    rated_a = world.params.inverter.rated_power_w / nominal
    # The inverter feeds the PCC only through K_AC and a closed K_GRID.
    feeds_pcc = k["grid"] and k["ac"]
    inverter_a = abs(world.inverter.ac_power_w) / max(pcc_v, 1.0) if feeds_pcc else 0.0
    dead = pcc_v < PCC_DEAD_PU * nominal and inverter_a < PCC_DEAD_PU * rated_a
    if world.truth.changed("pcc", dead):
        world.truth.record(now, "pcc_deenergized" if dead else "pcc_energized",
                           voltage_v=round(pcc_v, 1))
    exporting = -world.grid_import_w > (EXPORT_THRESHOLD_FRACTION
                                       * world.params.inverter.rated_power_w)
    if world.truth.changed("export", exporting):
        world.truth.record(now, "export_started" if exporting else "export_stopped",
                           power_w=round(-world.grid_import_w, 1))


def step_dc(world: SimWorld, dt: float, k: dict[str, bool]) -> None:
    """One plant step of the DC side: the link follows the battery through K_DC, charges through
    the precharge resistor through K_PRE, or bleeds; the battery moves by the current."""
    p = world.params
    current = 0.0
    ev_dc = world.ev_dc()  # the battery on the inlet: nothing below changes it
    if ev_dc and k["dc"]:
        current = world.battery.current_for_power(world.inverter.dc_power_w())
        world.dc_link_v = world.battery.terminal_v(current) + world.interlocks.dc_link_excess_v
    elif ev_dc and k["precharge"] and not world.interlocks.precharge_open:
        # The link capacitor charges from the battery through the precharge resistor (exact
        # RC solution, so any plant step is stable); the average current over the step
        # leaves the battery.
        ocv = world.battery.ocv_v()
        tau = p.precharge_resistance_ohm * p.dc_link_capacitance_f
        v0 = world.dc_link_v
        world.dc_link_v = ocv + (v0 - ocv) * math.exp(-dt / tau)
        current = -(world.dc_link_v - v0) * p.dc_link_capacitance_f / dt
    else:
        world.dc_link_v *= math.exp(-dt / p.dc_link_bleed_tau_s)  # bleed resistor
    world.battery.step(current if ev_dc else 0.0, dt)
