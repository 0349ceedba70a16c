"""The simulated charger: plant physics behind the same buses the production drivers use.

The world owns a gpiozero ``MockFactory`` (contactor coils and inputs), an SMBus-compatible bus
serving register-level chip models, and the far ends of two python-can virtual buses (the
inverter's firmware and the EV). It advances in fixed plant steps whenever the virtual clock is
asked to wait; tests and scenarios drive it through the handles below.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import Any

import can
import numpy as np

from hal.protocols.inverter_codec import InverterCodec
from hal.settings import CONTACTOR_NAMES, HalSettings
from hal.sim.can_bus import open_sim_bus, set_bus_off
from hal.sim.chips.ade7953_model import Ade7953Model
from hal.sim.chips.ads1115_model import Ads1115Model
from hal.sim.chips.ina228_model import Ina228Model
from hal.sim.chips.mcp23017_model import Mcp23017Model
from hal.sim.clock import VirtualClock
from hal.sim.ev.car import SimChademoCar
from hal.sim.ev.profiles import PROFILES
from hal.sim.far_side import (
    FarSideWiring,
    adc_pin_volts,
    drive_inputs,
    inverter_status,
    ntc_pin_volts,
    update_aux,
)
from hal.sim.far_side import meter_truth as far_side_meter_truth
from hal.sim.ground_truth import GroundTruth
from hal.sim.i2c_bus import SimSMBus
from hal.sim.interlocks import SimInterlocks
from hal.sim.inverter_port import SimInverterPort
from hal.sim.params import PlantParams
from hal.sim.plant.battery import EvBattery
from hal.sim.plant.contactor import ContactorModel
from hal.sim.plant.grid import UtilityGrid
from hal.sim.plant.home import Home
from hal.sim.plant.inverter import InverterModel
from hal.sim.plant.inverter_trips import InverterTrips
from hal.sim.plant.island import Island, RlcLoad
from hal.sim.plant_pins import plant_pin_factory
from hal.sim.power_flow import step_ac, step_dc
from hal.sim.truth import MeterTruth

CAN_ERR_BUSOFF = 0x040  # linux/can/error.h
CAN_ERR_RESTARTED = 0x100
OUT_OF_PHASE_DEG = 20.0  # IEEE 1547-2018 Table 5, DER rated up to 500 kVA
HOT_OPEN_CURRENT_A = 2.0


class SimWorld:
    """Plant state plus its bus-level faces. Build it through :mod:`hal.sim.backend`."""

    def __init__(self, hal: HalSettings, params: PlantParams, clock: VirtualClock) -> None:
        self.hal = hal
        self.params = params
        self.clock = clock
        self.rng = np.random.default_rng(params.seed)
        self.truth = GroundTruth()
        self.factory = plant_pin_factory()
        self.grid = UtilityGrid(params.nominal_voltage_v, params.nominal_frequency_hz)
        self.home = Home(params.home_load_w, params.pv_w)
        self.battery = EvBattery(params.battery, params.ev_soc_pct)
        params.inverter.nominal_frequency_hz = params.nominal_frequency_hz
        self.inverter = InverterModel(params.inverter, params.nominal_voltage_v)
        self.inverter_trips = InverterTrips()
        self.island = Island(params.nominal_voltage_v, params.nominal_frequency_hz)
        self.ev_plugged = params.ev_present
        self.ev_lock_engaged = False  # the connector's lock pin (follows its actuator)
        self.ev_lock_driven = False  # the lock actuator's drive output
        self.estop_pressed = False
        self.door_closed = True
        self.interlocks = SimInterlocks()  # watchdog relay, RCM, IMD, NTCs, plant faults
        self.v2l_load_w = params.v2l_load_w
        self.dc_link_v = 0.0
        self.grid_import_w = 0.0
        self.grid_import_var = 0.0  # reactive power at the PCC, + = absorbed from the utility
        self.home_bus_v = 0.0
        gpio = hal.gpio.contactors
        self.contactors = {
            name: ContactorModel(name, getattr(gpio, name).normally_closed, params.contactor)
            for name in CONTACTOR_NAMES
        }
        self.smbus = SimSMBus(seed=params.seed)
        self.bus_cycles = 0.0  # the PCC voltage's cycles (the meter's zero crossings) ...
        self.bus_phase_steps = 0.0  # ... of which phase steps (grid_phase_jump, reconnection)
        self._grid_phase_deg = self.grid.phase_deg
        self.meter_chip = Ade7953Model(self.meter_truth, hal.i2c.meter, self.rng,
                                       noiseless=not params.meter_noise, now=clock.now,
                                       cycles=lambda: (self.bus_cycles,
                                                       self.bus_phase_steps))
        self.adc_chip = Ads1115Model(clock.now, self.adc_pin_volts, self.rng)
        self.smbus.add_device(hal.i2c.meter.address, self.meter_chip)
        self.smbus.add_device(hal.i2c.adc.address, self.adc_chip)
        ina = hal.i2c.ina228
        self.dc_monitor_chip = Ina228Model(
            clock.now, lambda: self.dc_shunt_a() * ina.shunt_ohm,
            lambda: self.dc_link_v / ina.bus_scale, self.rng)
        if ina.enabled:
            self.smbus.add_device(ina.address, self.dc_monitor_chip)
        # The NTC dividers (thermal model -> volts) behind a second ADS1115 model.
        self.ntc_chip = Ads1115Model(clock.now, self.ntc_pin_volts, self.rng)
        if hal.i2c.ntc_adc.enabled:
            self.smbus.add_device(hal.i2c.ntc_adc.address, self.ntc_chip)
        tag = uuid.uuid4().hex[:12]
        self.can_channels = {"inverter": f"v2x-sim-{tag}-inv", "ev": f"v2x-sim-{tag}-ev"}
        self._inv_bus = open_sim_bus(self.can_channels["inverter"])
        self._ev_bus = open_sim_bus(self.can_channels["ev"])
        self.inverter_port = SimInverterPort(self._inv_bus, InverterCodec(),
                                             params.inverter_command_timeout_s)
        profile = PROFILES[params.ev_profile]
        if params.ev_timeout_scale != 1.0:
            scale = params.ev_timeout_scale
            profile = dataclasses.replace(profile, charger_timeout_s=profile.charger_timeout_s
                                          * scale, no_answer_s=profile.no_answer_s * scale)
        self.ev_car = SimChademoCar(self._ev_bus, self.battery, profile)
        xp = hal.i2c.expander.pins
        self.expander_chip = Mcp23017Model(  # the EV sequence signals (issue 19)
            self.expander_levels, driven=1 << xp.ev_permission | 1 << xp.ev_locked)
        self.smbus.add_device(hal.i2c.expander.address, self.expander_chip)
        self._pins: dict[int, Any] = {}
        self._meter_truth: MeterTruth | None = None
        self._bus_off_until: float | None = None
        self.wiring = FarSideWiring.of(self)  # the pins and channels each step uses
        self._status_now = functools.partial(inverter_status, self)  # asked only when due
        self._kick_pin = self.pin(hal.gpio.watchdog.kick_pin)
        drive_inputs(self)
        update_aux(self)
        clock.attach(self.step_to)

    def pin(self, number: int) -> Any:
        """The MockPin for a BCM number (cached: the factory's lookup is slow)."""
        pin = self._pins.get(number)
        if pin is None:
            pin = self._pins[number] = self.factory.pin(number)
        return pin

    # ----- handles for tests, scenarios and the CLI -------------------------------------------
    def press_estop(self) -> None:
        """Open the E-stop loop: the sense input and the coil supply drop at once."""
        self.estop_pressed = True
        drive_inputs(self)
        self.truth.record(self.clock.now(), "estop", pressed=True)

    def release_estop(self) -> None:
        self.estop_pressed = False
        drive_inputs(self)
        self.truth.record(self.clock.now(), "estop", pressed=False)

    def plug_ev(self, soc_pct: float | None = None) -> None:
        if soc_pct is not None:
            self.battery.soc = soc_pct / 100.0
        self.ev_plugged = True

    def unplug_ev(self) -> None:
        self.ev_plugged = False

    def outage(self) -> None:
        """The utility fails and the feeder collapses: the home bus is dead at once."""
        self.grid.breaker_closed = False
        self.island.collapse()
        self._meter_truth = None

    def island_utility(self, load: RlcLoad) -> None:
        """The utility breaker opens leaving ``load`` on the home bus with the inverter (the
        IEEE 1547.1 unintentional-islanding test): the island lives while the inverter feeds
        it (``hal/sim/plant/island.py``)."""
        v = self.home_bus_v if self.home_bus_v > 0.0 else self.params.nominal_voltage_v
        self.grid.breaker_closed = False
        self.island.form(load, v, self.grid.frequency_hz)
        self._meter_truth = None

    def balanced_island_load(self, qf: float, p_pct: float = 100.0,
                             c_pct: float = 100.0) -> RlcLoad:
        """An RLC load balanced to the inverter's present output (P at ``p_pct`` %, resonant at
        nominal), its capacitive branch at ``c_pct`` % (IEEE 1547.1: 95..105 % steps)."""
        p_w = max(-self.inverter.ac_power_w, 1.0) * p_pct / 100.0
        return RlcLoad.from_power(p_w, qf, self.params.nominal_frequency_hz,
                                  self.params.nominal_voltage_v).compensating(
            self.island.dynamics.filter_capacitance_f).scaled_reactive(c_pct)

    def islanded(self) -> bool:
        """The island's bus is up: breaker open, K_GRID closed, the island not collapsed."""
        return (self.island.active and not self.grid.breaker_closed
                and self.contactors["grid"].closed)

    def bus_frequency_hz(self) -> float:
        if self.islanded():
            return self.island.frequency_hz
        if self.formed_through_k_grid():
            return self.inverter.frequency_hz
        return self.grid.apparent_frequency_hz

    def formed_through_k_grid(self) -> bool:
        """The forming inverter holds the utility side: the utility is dead and K_GRID closed
        (welded, say) while K_AC is closed. The PCC meter then sees the formed voltage."""
        return (not self.grid.live and self.contactors["grid"].closed
                and self.contactors["ac"].closed and self.inverter.mode_name == "grid-forming")

    def restore_grid(self) -> None:
        """The utility returns, at a phase unrelated to the island the EV may be forming."""
        self.island.collapse()
        self.grid.breaker_closed = True
        self.grid.phase_deg = float(self.rng.uniform(0.0, 360.0))
        self._meter_truth = None

    def can_bus_off(self, duration_s: float) -> None:
        """The inverter CAN goes bus-off (a shorted or unterminated bus) for ``duration_s``.

        The controller's CAN chip reports it with an error frame; nothing crosses the bus until
        the automatic restart (restart-ms), which it reports with a second error frame. Frames
        the controller sends meanwhile wait in its transmit queue and go out at the restart
        (``hal/sim/can_bus.py``), as SocketCAN's do, unless it drops them.
        """
        self.inverter_port.receive(self.clock.now())  # frames on the wire before it: taken
        self._bus_off_until = self.clock.now() + duration_s
        self._send_error_frame(CAN_ERR_BUSOFF)
        set_bus_off(self.can_channels["inverter"], True)  # frames queue in each node
        self.truth.record(self.clock.now(), "can_bus_off", duration_s=duration_s)

    def _send_error_frame(self, flags: int) -> None:
        frame = can.Message(arbitration_id=flags, is_error_frame=True, is_extended_id=False,
                            data=bytes(8))
        self._inv_bus.send(frame)

    def contactor_closed(self, name: str) -> bool:
        return self.contactors[name].closed

    def close(self) -> None:
        self._inv_bus.shutdown()
        self._ev_bus.shutdown()
        self.factory.reset()

    # ----- what the chips see ----------------------------------------------------------------
    def meter_truth(self) -> MeterTruth:
        """What the PCC meter's sensors see now (computed once per plant step)."""
        if self._meter_truth is None:
            self._meter_truth = far_side_meter_truth(self)
        return self._meter_truth

    def ntc_pin_volts(self, ain: int) -> float:
        return ntc_pin_volts(self, ain)

    def adc_pin_volts(self, ain: int) -> float:
        return adc_pin_volts(self, ain)

    # ----- the EV inlet (issue 19: the vehicle's own contactors, the lock) -----------------
    def ev_dc(self) -> bool:
        """The battery is on the inlet: plugged in with the vehicle's contactors closed."""
        return self.ev_plugged and self.ev_car.contactors_closed

    def dc_shunt_a(self) -> float:
        """The current through the INA228's shunt in DC+: the battery's while it is on the
        inlet, plus an injected fault current (``dc_fault_current``)."""
        battery = self.battery.current_a if self.ev_dc() else 0.0
        return battery + self.interlocks.dc_fault_current_a

    def inlet_v(self) -> float:
        """The charger's output at the connector: the battery behind the vehicle's contactors,
        else the DC link through a closed K_DC, else dead."""
        if self.ev_dc():
            return self.battery.terminal_v()
        return self.dc_link_v if self.contactors["dc"].closed else 0.0

    def expander_levels(self) -> int:
        """The levels at the expander's EV input pins: the optocouplers of switch k and of the
        lock feedback (active low with ``inputs_active_low``)."""
        wiring = self.hal.i2c.expander
        levels = 0
        for pin, active in ((wiring.pins.ev_permission, self.ev_car.k_switch),
                            (wiring.pins.ev_locked, self.ev_lock_engaged)):
            levels |= (active != wiring.inputs_active_low) << pin
        return levels

    def _step_ev(self, now: float) -> None:
        pins, driven = self.hal.i2c.expander.pins, self.expander_chip.outputs()
        d1, d2 = bool(driven >> pins.ev_d1 & 1), bool(driven >> pins.ev_d2 & 1)
        lock = bool(driven >> pins.ev_lock & 1)
        self.ev_lock_engaged = lock and self.ev_plugged and not self.ev_car.faults.lock_fails
        was_closed = self.ev_car.contactors_closed
        self.ev_car.step(now, self.ev_plugged, d1, d2)
        if was_closed and not self.ev_car.contactors_closed and (
                abs(self.battery.current_a) > HOT_OPEN_CURRENT_A):
            self.truth.record(now, "ev_hot_open", current_a=round(
                self.battery.current_a, 1))
        truth = self.truth
        if truth.changed("ev_contactors", self.ev_car.contactors_closed):
            truth.record(now, "ev_contactors", closed=self.ev_car.contactors_closed)
        if truth.changed("ev_lock", self.ev_lock_engaged):
            truth.record(now, "ev_lock", locked=self.ev_lock_engaged,
                         inlet_v=round(self.inlet_v(), 1))
        self.ev_lock_driven = lock  # the controller's command to the lock actuator
        if truth.changed("ev_lock_drive", lock):
            truth.record(now, "ev_lock_drive", locked=lock, inlet_v=round(self.inlet_v(), 1))

    # ----- physics ---------------------------------------------------------------------------
    def step_to(self, deadline: float) -> None:
        t = self.clock.now()
        while t < deadline - 1e-12:
            dt = min(self.params.plant_step_s, deadline - t)
            t += dt
            self.clock.set_time(t)
            self._step(t, dt)

    def _advance_bus_cycles(self, dt: float) -> None:
        """Count the PCC voltage's cycles: the utility's phase (steps exact) or the island's."""
        delta = (self.grid.phase_deg - self._grid_phase_deg + 180.0) % 360.0 - 180.0
        self._grid_phase_deg = self.grid.phase_deg
        if self.islanded():
            self.bus_cycles += self.island.frequency_hz * dt
            return
        if self.formed_through_k_grid():
            self.bus_cycles += self.inverter.frequency_hz * dt
            return
        f = self.grid.frequency_hz
        step = (delta - 360.0 * (f - self.params.nominal_frequency_hz) * dt) / 360.0
        self.bus_cycles += f * dt + step
        self.bus_phase_steps += step

    def pv_running(self) -> bool:
        # Grid-tied PV (IEEE 1547) runs only on a live utility-connected bus.
        return self.grid.live and self.contactors["grid"].closed

    def _step(self, now: float, dt: float) -> None:
        self._meter_truth = None
        bus_off = self._bus_off_until is not None and now < self._bus_off_until
        if not bus_off:  # while bus-off the controller's frames wait in its transmit queue
            if self._bus_off_until is not None:
                self._bus_off_until = None
                set_bus_off(self.can_channels["inverter"], False)  # the queues go out now
                self._send_error_frame(CAN_ERR_RESTARTED)
            self.inverter_port.receive(now)
        command = self.inverter_port.command(now)
        self.interlocks.step(now, dt, self.truth,
                             bool(self._kick_pin.state),
                             self.battery.current_a, self.inverter.temperature_c,
                             command is not None, self.inverter.mode_name != "off")
        self.grid.step(dt)
        self.home.step(now)
        self._step_contactors(now)
        k = {name: c.closed for name, c in self.contactors.items()}
        external = k["grid"] and self.grid.live
        islanded = self.islanded()
        forming = self.inverter.mode_name == "grid-forming"
        bus_v = self.grid.voltage_v if external else self.island.voltage_v if islanded else (
            self.params.nominal_voltage_v if forming and k["ac"] else 0.0)
        inverter_ac_v = bus_v if k["ac"] else (
            self.params.nominal_voltage_v if forming and k["v2l"] else 0.0)
        formed_load = 0.0
        if k["ac"] and not external and not islanded:
            formed_load += self.home.load_w
        if k["v2l"]:
            formed_load += self.v2l_load_w
        dc_v = self.dc_link_v if k["dc"] and self.ev_dc() else 0.0  # no stiff DC source
        self.inverter.configure(self.inverter_port.settings)
        self.inverter_trips.configure(self.inverter_port.settings)
        # Another source holds the inverter's terminals up only through K_AC (V2L is isolated).
        held_externally = (external or islanded) and k["ac"]
        self.inverter.grid_side = ((self.grid.phase_deg, self.grid.frequency_hz,
                                    self.grid.voltage_pu) if self.grid.live else None)
        self.inverter.step(now, dt, command, inverter_ac_v, held_externally, dc_v, formed_load)
        if not self.interlocks.inverter_fails_to_cease:
            self._run_inverter_trips(now, inverter_ac_v)
        if islanded:
            self._step_island(dt, k)
        step_dc(self, dt, k)
        step_ac(self, now, dt, k, external)
        self._advance_bus_cycles(dt)
        drive_inputs(self)
        update_aux(self)
        if not bus_off:
            self.inverter_port.publish(now, self._status_now)
        self._step_ev(now)  # the simulated vehicle (hal/sim/ev/, issue 19)
        # GroundTruth.track's work, its record's details built only on a change (every step):
        truth, mode = self.truth, self.inverter.mode_name
        if truth.changed("inverter_mode", mode):
            truth.record(now, "inverter_mode", mode=mode)
        breaker = self.grid.breaker_closed
        if truth.changed("breaker", breaker):
            truth.record(now, "utility_breaker", closed=breaker)
        ceased = self.inverter.cessation.active
        if truth.changed("momentary_cessation", ceased):
            truth.record(now, "momentary_cessation", ceased=ceased)

    def _run_inverter_trips(self, now: float, ac_v: float) -> None:
        """The inverter's own trip elements, at its terminals, while it runs grid-following."""
        if self.inverter.mode_name != "grid-following":
            self.inverter_trips.reset()
            return
        frequency = self.bus_frequency_hz()
        bits = self.inverter_trips.update(now, ac_v / self.params.nominal_voltage_v, frequency,
                                          self.params.plant_step_s)
        if self.inverter.anti_islanding:
            bits |= self.inverter_trips.islanding(now, frequency,
                                                  self.params.nominal_frequency_hz)
        if bits:
            self.inverter.fault(bits)
            self.truth.record(now, "inverter_trip", element=self.inverter_trips.tripped[-1][1])

    def _step_island(self, dt: float, k: dict[str, bool]) -> None:
        """The island follows the inverter's current and the RLC load (collapses without it)."""
        inv = self.inverter
        feeding = k["ac"] and inv.mode_name == "grid-following" and inv.ac_power_w < 0.0
        if not feeding:
            self.island.collapse()
            return
        rated_a = inv.params.rated_power_w / self.params.nominal_voltage_v
        self.island.step(dt, -inv.ac_power_w, inv.current_lead_rad, rated_a)

    def _step_contactors(self, now: float) -> None:
        supply_ok = not self.estop_pressed and self.interlocks.coil_supply_ok
        coil_open = self.interlocks.coil_open
        for name, model, coil_pin in self.wiring.coils:
            coil_on = bool(coil_pin.state) and name not in coil_open
            if model.step(now, coil_on, supply_ok):
                if name == "grid" and model.closed:
                    self._check_reclosure(now)  # recorded first: the closing's context
                self.truth.record(now, "contactor", name=name, closed=model.closed)
                if (name == "dc" and not model.closed
                        and abs(self.battery.current_a) > HOT_OPEN_CURRENT_A):
                    model.hot_opens += 1
                    self.truth.record(now, "hot_open", name=name,
                                      current_a=round(self.battery.current_a, 1))

    def _check_reclosure(self, now: float) -> None:
        """K_GRID closed onto a live utility while the EV formed the home grid: in phase?"""
        inv = self.inverter
        if inv.mode_name != "grid-forming" or not self.grid.live:
            return
        angle = abs((self.grid.phase_deg - inv.phase_deg + 180.0) % 360.0 - 180.0)
        kind = ("synchronised_closure" if angle <= OUT_OF_PHASE_DEG and inv.synced
                else "out_of_phase_closure")
        self.truth.record(now, kind, angle_deg=round(angle, 1))
