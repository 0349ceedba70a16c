"""Named plant faults for the interlock monitors: one per monitor, usable from tests and
scenarios (``simulation/scenarios/kinds.py`` lists them with the older link and I2C faults).

Each fault changes the plant or a device the way the real failure would; the controller sees it
only through its inputs. ``inject(world, name, **params)`` applies one and records it in the
ground truth (``fault_injected``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hal.sim.i2c_bus import FAULT_ABSENT
from hal.sim.temperatures import SENSOR_NAMES
from simulation.ev_faults import EV_FAULTS


@dataclass(frozen=True)
class Injectable:
    description: str
    params: tuple[str, ...]
    apply: Callable[[Any, dict[str, Any]], None]


class StallingDevice:
    """An I2C device whose next read stalls the bus (clock stretching) for ``stall_s``: the
    control tick that reads it takes that long, the plant runs on meanwhile."""

    def __init__(self, inner: Any, clock: Any, stall_s: float) -> None:
        self._inner, self._clock, self._stall = inner, clock, stall_s

    def on_write(self, data: bytes) -> None:
        self._inner.on_write(data)

    def on_read(self, n: int) -> bytes:
        if self._stall > 0:
            stall, self._stall = self._stall, 0.0
            self._clock.advance_to(self._clock.now() + stall)
        result: bytes = self._inner.on_read(n)
        return result


def _stall_meter(w: Any, p: dict[str, Any]) -> None:
    address = w.hal.i2c.meter.address
    w.smbus.remove_device(address)
    w.smbus.add_device(address, StallingDevice(w.meter_chip, w.clock, float(p["duration_s"])))


def _welded_closed(w: Any, p: dict[str, Any]) -> None:
    model = w.contactors[p["contactor"]]
    model.welded = True
    model.closed = True  # already closed: no closing now (it welded in an earlier session)
    if p["contactor"] == "dc" and w.ev_plugged:
        w.dc_link_v = w.battery.terminal_v()


def _fails_to_cease(w: Any, p: dict[str, Any]) -> None:
    w.inverter.ignoring = True
    w.interlocks.inverter_fails_to_cease = True


def _set_sensor(w: Any, p: dict[str, Any], **values: Any) -> None:
    state = w.interlocks.thermal.sensors[p["sensor"]]
    for key, value in values.items():
        setattr(state, key, value)


INJECTABLE: dict[str, Injectable] = {
    "contactor_welded_closed": Injectable(
        "the contacts of `contactor` are welded closed since an earlier session (closed now, "
        "the DC link at the battery voltage for K_DC)", ("contactor",), _welded_closed),
    "contactor_fail_close": Injectable(
        "the coil circuit of `contactor` is open: it never closes", ("contactor",),
        lambda w, p: w.interlocks.coil_open.add(p["contactor"])),
    "contactor_feedback_lost": Injectable(
        "the aux contact wire of `contactor` breaks: it reads open whatever the contacts do",
        ("contactor",), lambda w, p: w.interlocks.aux_cut.add(p["contactor"])),
    "inverter_fails_to_cease": Injectable(
        "the inverter's firmware stops ceasing: it ignores its commands (as "
        "`inverter_ignores_commands`) and runs none of its own trips (the controller must open "
        "the contactors itself: GRID_CEASE_FAILED)", (), _fails_to_cease),
    "precharge_resistor_open": Injectable(
        "the precharge resistor is open circuit: the DC link never charges (precharge timeout)",
        (), lambda w, p: setattr(w.interlocks, "precharge_open", True)),
    "insulation_fault": Injectable(
        "the insulation monitor alarms (DC insulation resistance low)", (),
        lambda w, p: setattr(w.interlocks, "insulation_fault", True)),
    "ground_fault": Injectable(
        "the residual current monitor alarms (earth leakage current)", (),
        lambda w, p: setattr(w.interlocks, "ground_fault", True)),
    "door_open": Injectable("the enclosure door is opened", (),
                            lambda w, p: setattr(w, "door_closed", False)),
    "sensor_open": Injectable("the NTC `sensor` goes open circuit", ("sensor",),
                              lambda w, p: _set_sensor(w, p, fault="open")),
    "sensor_short": Injectable("the NTC `sensor` is shorted", ("sensor",),
                               lambda w, p: _set_sensor(w, p, fault="short")),
    "temperature_absent": Injectable(
        "the NTC converter (the second ADS1115) stops answering: every temperature goes stale",
        (), lambda w, p: w.smbus.inject(w.hal.i2c.ntc_adc.address, FAULT_ABSENT)),
    "overtemperature_ramp": Injectable(
        "the part at `sensor` heats up at `rate_c_per_s` (a loose terminal, a blocked fan)",
        ("sensor", "rate_c_per_s"),
        lambda w, p: _set_sensor(w, p, ramp_c_per_s=float(p["rate_c_per_s"]))),
    "dc_overvoltage": Injectable(
        "the DC link rises `volts` above the EV battery (a DC stage regulation fault)",
        ("volts",), lambda w, p: setattr(w.interlocks, "dc_link_excess_v", float(p["volts"]))),
    "dc_overcurrent": Injectable(
        "a DC fault current of `amps` adds to what the controller's DC current sensor sees",
        ("amps",), lambda w, p: setattr(w.interlocks, "dc_current_offset_a", float(p["amps"]))),
    "dc_current_sensor_stuck": Injectable(
        "the controller's DC current sensor reads `amps` whatever flows (a stuck hall sensor, a "
        "saturated amplifier)",
        ("amps",), lambda w, p: setattr(w.interlocks, "dc_current_stuck_a", float(p["amps"]))),
    "meter_disagreement": Injectable(
        "the inverter reports a DC link voltage `volts` off from the real one (its sensing drifts)",
        ("volts",),
        lambda w, p: setattr(w.interlocks, "inverter_dc_voltage_bias_v", float(p["volts"]))),
    "inverter_power_stuck": Injectable(
        "the inverter's power stage stops following commands (output stuck near zero, no fault "
        "reported)", (), lambda w, p: setattr(w.inverter.params, "rated_power_w", 1.0)),
    "meter_frozen_signal": Injectable(
        "the meter's input waveform freezes while the ADE7953 keeps answering on I2C: constant, "
        "noise-free RMS and power, energy still counting at that constant rate", (),
        lambda w, p: w.meter_chip.freeze_signal()),
    "meter_frozen_registers": Injectable(
        "the ADE7953's DSP stops while its I2C interface keeps answering: every measurement "
        "register returns its last value, the energy accumulators and PERIOD stop", (),
        lambda w, p: w.meter_chip.freeze_registers()),
    "inverter_ignores_commands": Injectable(
        "the inverter's firmware stops following commands: it holds the power it had through "
        "setpoint changes, OFF and its command timeout (only losing K_AC or the DC link stops "
        "it), no fault reported", (), lambda w, p: setattr(w.inverter, "ignoring", True)),
    "inverter_reports_off": Injectable(
        "the inverter reports state OFF while its power stage runs", (),
        lambda w, p: w.inverter_port.inject("reports_off_while_running")),
    "inverter_reports_zero_hz": Injectable(
        "the inverter reports 0 Hz on its AC side while running", (),
        lambda w, p: w.inverter_port.inject("reports_zero_frequency")),
    "inverter_reports_overheated": Injectable(
        "the inverter reports a heatsink temperature of 215 degC", (),
        lambda w, p: w.inverter_port.inject("reports_overheated")),
    "inverter_reports_frozen": Injectable(
        "the inverter's status content freezes as it is now (valid frames, advancing counter): "
        "it keeps reporting its present state and power whatever it does", (),
        lambda w, p: w.inverter_port.inject("reports_frozen")),
    "loop_overrun": Injectable(
        "the I2C bus stalls for `duration_s` on the next meter read: that control tick overruns",
        ("duration_s",), _stall_meter),
    "dc_fault_current": Injectable(
        "a fault current of `amps` flows in the DC+ conductor (a short in the DC stage): the hall "
        "sensor and the INA228's shunt both carry it (issue 20)", ("amps",),
        lambda w, p: setattr(w.interlocks, "dc_fault_current_a", float(p["amps"]))),
}
# The simulated vehicle's faults (issue 19, simulation/ev_faults.py).
INJECTABLE.update({name: Injectable(*spec) for name, spec in EV_FAULTS.items()})

SENSORS = SENSOR_NAMES


def inject(world: Any, name: str, params: dict[str, Any]) -> None:
    """Apply the named fault now (``params`` as listed in :data:`INJECTABLE`)."""
    spec = INJECTABLE.get(name)
    if spec is None:
        raise ValueError(f"unknown injectable fault {name!r}: one of {', '.join(INJECTABLE)}")
    missing = [k for k in spec.params if params.get(k) is None]
    if missing:
        raise ValueError(f"fault {name}: missing {', '.join(missing)}")
    spec.apply(world, params)
    world.truth.record(world.clock.now(), "fault_injected", name=name)
