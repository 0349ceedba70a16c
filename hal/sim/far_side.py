"""What the controller's devices see of the plant: the meter's and the ADCs' inputs, the
EV's and the inverter's reports, the input and aux pins.

Split from ``hal/sim/world.py`` (the world's state and handles): pure reads of the world, except
the two pin drivers, which set the gpiozero mock pins the controller's inputs read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hal.protocols.inverter_messages import InverterStatus
from hal.settings import NTC_SENSORS, AdcChannelWiring, InputWiring
from hal.sim.plant.contactor import ContactorModel
from hal.sim.truth import MeterTruth

if TYPE_CHECKING:
    from hal.sim.world import SimWorld

# The DC-side ADS1115's channels, in the order a shared AIN is resolved (the first one wins).
_ADC_CHANNELS = ("dc_link_v", "ev_inlet_v", "dc_current_a")
# The plant-driven inputs, in the order drive_inputs holds them.
_INPUTS = ("estop", "door", "rcm_ok", "imd_ok", "ev_present")


@dataclass(frozen=True)
class FarSideWiring:
    """The wiring the far side uses every plant step, looked up once from the frozen settings
    (``hal.settings``) and the world's pins: which pin each input and aux contact drives,
    which coil pin each contactor reads, what each ADC input carries."""

    inputs: tuple[tuple[str, InputWiring, Any], ...]  # (name, wiring, pin): E-stop ... EV
    dc_alert_pin: Any
    coils: tuple[tuple[str, ContactorModel, Any], ...]  # (name, model, coil pin)
    aux: tuple[tuple[str, ContactorModel, bool, Any], ...]  # (name, model, closed_high, pin)
    adc: dict[int, tuple[str, AdcChannelWiring]]  # AIN -> (channel name, wiring)
    ntc: dict[int, str]  # AIN of the NTC converter -> sensor

    @classmethod
    def of(cls, world: SimWorld) -> FarSideWiring:
        gpio, i2c = world.hal.gpio, world.hal.i2c
        inputs = tuple((name, getattr(gpio.inputs, name), world.pin(
            getattr(gpio.inputs, name).pin)) for name in _INPUTS)
        coils = tuple((name, model, world.pin(getattr(gpio.contactors, name).coil_pin))
                      for name, model in world.contactors.items())
        aux = tuple((name, model, wiring.aux_closed_high, world.pin(wiring.aux_pin))
                    for name, model in world.contactors.items()
                    if (wiring := getattr(gpio.contactors, name)).aux_pin is not None)
        adc: dict[int, tuple[str, AdcChannelWiring]] = {}
        for name in _ADC_CHANNELS:
            wiring = getattr(i2c.adc.channels, name)
            adc.setdefault(wiring.ain, (name, wiring))
        ntc: dict[int, str] = {}
        for sensor, channel_name in NTC_SENSORS.items():
            ntc.setdefault(getattr(i2c.ntc_adc.channels, channel_name).ain, sensor)
        return cls(inputs, world.pin(gpio.inputs.dc_alert.pin), coils, aux, adc, ntc)


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
    sensor = world.wiring.ntc.get(ain)
    if sensor is None:
        return 0.0
    return world.interlocks.thermal.ratio(sensor) * world.hal.i2c.ntc_adc.reference_v


def adc_pin_volts(world: SimWorld, ain: int) -> float:
    """The DC-side ADS1115's input ``ain``: link voltage, inlet voltage, current, scaled."""
    channel = world.wiring.adc.get(ain)
    if channel is None:
        return 0.0
    name, wiring = channel
    value: float
    if name == "dc_link_v":
        value = world.dc_link_v
    elif name == "ev_inlet_v":
        value = world.inlet_v()
    else:  # the DC+ path: what flows, the sensor's drift, or the value it is stuck at
        stuck = world.interlocks.dc_current_stuck_a
        value = (world.dc_shunt_a() + world.interlocks.dc_current_offset_a if stuck is None
                 else stuck)
    return float(value / wiring.scale + wiring.offset_v)


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
    locks = world.interlocks
    levels = (not world.estop_pressed, world.door_closed, not locks.ground_fault,
              not locks.insulation_fault, world.ev_plugged)  # in _INPUTS' order
    for (_name, wiring, pin), active in zip(world.wiring.inputs, levels, strict=True):
        pin.hold(active == wiring.active_high)
    # The ADS1115's ALERT/RDY: the chip model's comparator drives it (open drain, pulled up),
    # wire-ORed with the INA228's ALERT when one is fitted (issue 20): either pulls it low.
    world.adc_chip.advance()
    high = world.adc_chip.alert_pin_high
    if world.hal.i2c.ina228.enabled:
        high = world.dc_monitor_chip.alert_pin_high and high
    world.wiring.dc_alert_pin.hold(high)


def update_aux(world: SimWorld) -> None:
    """Each wired aux contact's pin from its contactor's main contacts."""
    cut = world.interlocks.aux_cut
    for name, model, closed_high, pin in world.wiring.aux:
        closed = model.closed and name not in cut
        pin.hold(closed == closed_high)
