"""What the controller's devices see of the plant: the meter's and the ADCs' inputs, the
EV's and the inverter's reports, the input and aux pins.

Split from ``hal/sim/world.py`` (the world's state and handles): pure reads of the world, except
the two pin drivers, which set the gpiozero mock pins the controller's inputs read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hal.protocols.inverter_messages import InverterStatus
from hal.settings import NTC_SENSORS
from hal.sim.truth import MeterTruth

if TYPE_CHECKING:
    from hal.sim.world import SimWorld


def meter_truth(world: SimWorld) -> MeterTruth:
    """What the PCC meter's sensors see: the utility, the island, or a grid formed through
    K_GRID."""
    islanded = world.islanded()
    v = world.island.voltage_v if islanded else world.grid.voltage_v
    if not islanded and world.formed_through_k_grid():
        v = world.home_bus_v
    f = world.bus_frequency_hz() if v > 0 else 0.0
    pv = world.home.pv_w if world.pv_running() else 0.0
    amps = abs(world.grid_import_w) / v if v > 0 else 0.0
    pv_amps = pv / v if v > 0 else 0.0
    return MeterTruth(v, f, amps, world.grid_import_w, world.grid_import_var, pv_amps, pv)


def ntc_pin_volts(world: SimWorld, ain: int) -> float:
    """The NTC divider on ``ain`` of the NTC converter (open NTC: the pull-up's supply)."""
    ntc = world.hal.i2c.ntc_adc
    for sensor, channel_name in NTC_SENSORS.items():
        if getattr(ntc.channels, channel_name).ain == ain:
            return world.interlocks.thermal.ratio(sensor) * ntc.reference_v
    return 0.0


def adc_pin_volts(world: SimWorld, ain: int) -> float:
    """The DC-side ADS1115's input ``ain``: link voltage, inlet voltage, current, scaled."""
    chans = world.hal.i2c.adc.channels
    inlet = world.inlet_v()
    current = world.dc_shunt_a() + world.interlocks.dc_current_offset_a  # the same DC+ path
    stuck = world.interlocks.dc_current_stuck_a
    if stuck is not None:
        current = stuck
    for name, value in (("dc_link_v", world.dc_link_v), ("ev_inlet_v", inlet),
                        ("dc_current_a", current)):
        wiring = getattr(chans, name)
        if wiring.ain == ain:
            return float(value / wiring.scale + wiring.offset_v)
    return 0.0


def inverter_status(world: SimWorld) -> InverterStatus:
    """What the inverter's three status frames carry now."""
    inv = world.inverter
    ac_v = world.home_bus_v if world.contactors["ac"].closed else 0.0
    return InverterStatus(
        state=inv.state,
        dc_voltage_v=world.dc_link_v + world.interlocks.inverter_dc_voltage_bias_v,
        dc_current_a=world.battery.current_a if world.contactors["dc"].closed else 0.0,
        ac_power_w=inv.ac_power_w, ac_voltage_v=ac_v,
        ac_frequency_hz=world.bus_frequency_hz() if ac_v > 0 else 0.0,
        reactive_power_var=inv.reactive_power_var, temperature_c=inv.temperature_c,
        fault_word=inv.fault_word, warning_word=0, synced=inv.synced)


def drive_inputs(world: SimWorld) -> None:
    """The E-stop, door, RCM, IMD and EV-present pins as the plant has them (the CHAdeMO
    sequence inputs are on the expander: ``SimWorld.expander_levels``)."""
    inputs = world.hal.gpio.inputs
    for wiring, active in ((inputs.estop, not world.estop_pressed),
                           (inputs.door, world.door_closed),
                           (inputs.rcm_ok, not world.interlocks.ground_fault),
                           (inputs.imd_ok, not world.interlocks.insulation_fault),
                           (inputs.ev_present, world.ev_plugged)):
        high = active == wiring.active_high
        world.pin(wiring.pin).hold(high)
    # The ADS1115's ALERT/RDY: the chip model's comparator drives it (open drain, pulled up),
    # wire-ORed with the INA228's ALERT when one is fitted (issue 20): either pulls it low.
    world.adc_chip.advance()
    high = world.adc_chip.alert_pin_high
    if world.hal.i2c.ina228.enabled:
        high = world.dc_monitor_chip.alert_pin_high and high
    world.pin(inputs.dc_alert.pin).hold(high)


def update_aux(world: SimWorld) -> None:
    """Each wired aux contact's pin from its contactor's main contacts."""
    gpio = world.hal.gpio.contactors
    for name, model in world.contactors.items():
        wiring = getattr(gpio, name)
        if wiring.aux_pin is None:
            continue
        closed = model.closed and name not in world.interlocks.aux_cut
        high = closed == wiring.aux_closed_high
        world.pin(wiring.aux_pin).hold(high)
