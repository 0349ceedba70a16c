"""Applying a scenario event to the simulated world (or, for requests, to the controller)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.supervisor.loop import Supervisor
from hal.sim.plant.island import RlcLoad
from hal.sim.world import SimWorld
from simulation.fault_injection import INJECTABLE, inject
from simulation.scenarios.spec import Entry


@dataclass
class Freeze:
    """When the controller is frozen (``controller_freeze``), ticks stop until ``until``."""

    until: float = -1.0


def _apply_fault(entry: Entry, world: SimWorld, freeze: Freeze, now: float) -> None:
    params = entry.params
    name = params["name"]
    meter = world.hal.i2c.meter.address
    adc = world.hal.i2c.adc.address
    if name == "meter_absent":
        world.smbus.inject(meter, "absent")
    elif name == "meter_nack":
        world.smbus.inject(meter, f"nack_next:{params['count']}")
    elif name == "meter_garbage":
        world.smbus.inject(meter, "garbage")
    elif name == "meter_restore":
        world.smbus.clear(meter)
    elif name == "adc_absent":
        world.smbus.inject(adc, "absent")
    elif name == "adc_restore":
        world.smbus.clear(adc)
    elif name == "inverter_silence":
        world.inverter_port.inject("silence")
    elif name == "inverter_bad_crc":
        world.inverter_port.inject("bad_crc")
    elif name == "inverter_frozen_counter":
        world.inverter_port.inject("frozen_counter")
    elif name == "inverter_restore":
        world.inverter_port.clear()
        world.inverter.fault_word = 0
    elif name == "inverter_settings_corrupt":
        world.inverter_port.inject("settings_readback_corrupt")
    elif name == "inverter_settings_ignored":
        world.inverter_port.inject("settings_ignored")
    elif name == "inverter_bus_off":
        world.can_bus_off(float(params["duration_s"]))
    elif name == "inverter_fault_code":
        world.inverter.fault(1 << int(params["bit"]))
    elif name == "contactor_weld":
        world.contactors[params["contactor"]].welded = True
    elif name == "controller_freeze":
        freeze.until = now + float(params["duration_s"])
    elif name in INJECTABLE:
        inject(world, name, dict(params))
        return  # inject records the truth event
    else:  # pragma: no cover - the loader only admits known names
        raise ValueError(f"unknown fault {name!r}")
    world.truth.record(now, "fault_injected", name=name)


def _island(params: dict[str, Any], world: SimWorld, now: float) -> None:
    """The utility breaker opens leaving an RLC load on the home bus (IEEE 1547.1 5.10)."""
    nominal = world.params
    qf = float(params["qf"])
    if "load_w" in params:
        load = RlcLoad.from_power(float(params["load_w"]), qf,
                                  float(params.get("f0_hz", nominal.nominal_frequency_hz)),
                                  nominal.nominal_voltage_v)
        load = load.scaled_reactive(float(params["c_pct"]))
    else:
        load = world.balanced_island_load(qf, float(params["p_pct"]), float(params["c_pct"]))
    world.island_utility(load)
    world.truth.record(now, "island_formed", load_w=round(
        nominal.nominal_voltage_v ** 2 / load.r_ohm, 1), qf=round(load.qf, 3),
        f0_hz=round(load.f0_hz, 3))


def apply_event(entry: Entry, world: SimWorld, sup: Supervisor, freeze: Freeze,
                now: float) -> None:
    """Make one event happen now."""
    params = entry.params
    kind = entry.kind
    grid = world.grid
    if kind == "grid_voltage":
        grid.set_voltage(params["pu"], params.get("ramp_pu_per_s"))
    elif kind == "grid_frequency":
        grid.set_frequency(params["hz"], params.get("ramp_hz_per_s"))
    elif kind == "grid_phase_jump":
        grid.jump_phase(params["degrees"])
    elif kind == "grid_outage":
        world.outage()
    elif kind == "grid_restore":
        world.restore_grid()
    elif kind == "grid_island":
        _island(params, world, now)
    elif kind == "permit_service":
        sup.protection.set_permit_service(bool(params["enabled"]))
    elif kind == "ev_plug":
        world.plug_ev(params.get("soc_pct"))
    elif kind == "ev_unplug":
        world.unplug_ev()
    elif kind == "request":
        sup.claim(params["source"], params.get("mode"), params.get("power_w"),
                  params.get("lease_s"))
    elif kind == "release":
        sup.release(params["source"])
    elif kind == "estop_press":
        world.press_estop()
    elif kind == "estop_release":
        world.release_estop()
    elif kind == "reset":
        sup.request_reset(params.get("by", "operator"))
    elif kind == "home_load":
        world.home.load_w = params["w"]
    elif kind == "pv":
        world.home.pv_w = params["w"]
    elif kind == "v2l_load":
        world.v2l_load_w = params["w"]
    elif kind == "fault":
        _apply_fault(entry, world, freeze, now)
    else:  # pragma: no cover - the loader only admits known kinds
        raise ValueError(f"unknown event kind {kind!r}")
