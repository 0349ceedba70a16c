"""Turns the mode, the request, the limits and the measurements into one inverter command.

Charge: up to the smallest limit. V2H: discharge so grid import follows a small positive target,
integrating the import error, with an immediate cut when the home would export; the reserve SoC
stops discharge with hysteresis. Every other state: zero. Frequency droop (IEEE 1547 frequency-
watt, ``controller/dispatch/droop.py``) then moves the target within the mode's range, and the
reactive power modes (``controller/dispatch/reactive.py``) set the reactive setpoint and, with
reactive power priority and volt-watt, limit the active power. Rises are limited to
``limits.ramp_rate_w_per_s``; reductions toward zero (a stop, a lower target) follow at the
inverter's own ramp rate (``inverter.ramp_rate_w_per_s``, if faster), so a stop from full power
reaches zero long before ``sequence.rampdown_timeout_s`` (``controller/config/rules.py`` checks
that it can); cuts that prevent export or obey a lowered limit are immediate. In a momentary-
cessation region (IEEE 1547 Category III, the controller's own PCC voltage) the command is zero
in every grid-following state, as the second layer behind the inverter's own cessation; the
setpoint is held meanwhile (it may fall, never rise) and is commanded again at once when the
region ends, not at the rise ramp (docs/grid-protection.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.model import Config
from controller.config.rules import rampdown_rate_w_per_s
from controller.dispatch.droop import FrequencyDroop
from controller.dispatch.limits import PowerLimits, power_limits
from controller.dispatch.reactive import ReactivePower, ReactiveResult
from controller.measurement.grid_estimator import GridEstimate
from controller.modes.plan import PlannedOutputs
from controller.modes.requests import Request
from controller.modes.states import State
from controller.protection.grid.ride_through import momentary_cessation
from controller.values.snapshot import Snapshot
from hal.protocols.inverter_messages import InverterCommand, InverterMode

# The inverter may carry a short overload beyond the outlet rating, so that the controller (not
# the inverter's own current limit) decides, after v2l.overload_time_s, to stop V2L.
V2L_CURRENT_MARGIN = 1.5
GRID_FOLLOWING_STATES = frozenset({State.ENERGISED_CHARGE, State.ENERGISED_V2H,
                                   State.ENERGISED_V2G})


@dataclass(frozen=True, slots=True)
class DispatchResult:
    command: InverterCommand
    target_w: float
    limits: PowerLimits
    note: str


class Dispatcher:
    """Holds the ramped setpoint and the v2h integrator between ticks."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self.power_w = 0.0  # the ramped AC setpoint (+ charge, - discharge)
        self._v2h_discharge_w = 0.0
        self._at_reserve = False
        self._last_t: float | None = None
        self._droop = FrequencyDroop(config.frequency_droop, config.grid.nominal_frequency_hz,
                                     config.inverter.rated_power_w)
        self._reactive = ReactivePower(config.reactive_power, config.inverter.rated_power_w)

    def _dt(self, t: float) -> float:
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        return dt

    def _reserve_reached(self, snap: Snapshot) -> bool:
        """Discretionary discharge stops at the reserve SoC and resumes above reserve +
        hysteresis, so it does not chatter at the floor."""
        cfg = self._config.v2h
        ev = snap.ev
        if ev is not None:
            if ev.soc_pct <= cfg.reserve_soc_pct:
                self._at_reserve = True
            elif ev.soc_pct >= cfg.reserve_soc_pct + cfg.reserve_hysteresis_pct:
                self._at_reserve = False
        return self._at_reserve

    def _v2h_target(self, snap: Snapshot, ceiling_w: float, dt: float) -> tuple[float, str]:
        cfg = self._config.v2h
        self._reserve_reached(snap)
        if self._at_reserve or snap.meter is None:
            self._v2h_discharge_w = 0.0
            return 0.0, "at reserve SoC" if self._at_reserve else "no meter reading"
        error = snap.meter.grid_power_w - cfg.import_target_w
        if snap.meter.grid_power_w < 0.0:
            self._v2h_discharge_w += error  # exporting: cut at once, no integration lag
        else:
            self._v2h_discharge_w += cfg.follow_gain * error * dt
        self._v2h_discharge_w = min(max(self._v2h_discharge_w, 0.0), ceiling_w)
        return -self._v2h_discharge_w, f"following import target {cfg.import_target_w:.0f} W"

    def _frequency_droop(self, state: State, t: float, target: float,
                         frequency_hz: float | None, limits: PowerLimits,
                         note: str) -> tuple[float, str]:
        """IEEE 1547 frequency-watt on charge and v2g. The claimed power is a ceiling, so there
        is no headroom above it: over-frequency reduces export, under-frequency reduces
        charging, neither beyond zero. V2H is left alone: it never exports, so its output at
        the PCC is already zero, and its import-following integrator would fight an offset."""
        if state is State.ENERGISED_CHARGE:
            low, high = 0.0, max(target, 0.0)
        elif state is State.ENERGISED_V2G:
            low, high = min(target, 0.0), 0.0
        else:
            self._droop.reset()
            return target, note
        droop = self._droop.apply(t, target, frequency_hz, low, high)
        return droop.power_w, (f"{note}; {droop.note}" if droop.note else note)

    def _reactive_power(self, state: State, t: float,
                        voltage_pu: float | None) -> ReactiveResult:
        """IEEE 1547 reactive power in the grid-following states (the output of the previous
        tick drives constant power factor and watt-var)."""
        if state not in GRID_FOLLOWING_STATES:
            self._reactive.reset()
            return self._reactive.update(t, None, 0.0)
        return self._reactive.update(t, voltage_pu, -self.power_w)

    def _ceasing(self, state: State, grid: GridEstimate | None) -> bool:
        """Grid-following in a momentary-cessation region of the configured category."""
        return (state in GRID_FOLLOWING_STATES and grid is not None and grid.voltage_present
                and momentary_cessation(self._config.inverter.ride_through_category,
                                        grid.voltage_pu))

    def _ramped(self, target: float, dt: float) -> float:
        """One ramp step toward ``target``: slowly up, at the inverter's own rate toward zero."""
        current = self.power_w
        rise = self._config.limits.ramp_rate_w_per_s * dt
        fall = rampdown_rate_w_per_s(self._config) * dt
        if current * target < 0.0:  # through zero: first down to zero, then up the other way
            return current + max(-fall, min(fall, -current))
        if abs(target) <= abs(current):
            return current + max(-fall, min(fall, target - current))
        return current + max(-rise, min(rise, target - current))

    def update(self, state: State, plan: PlannedOutputs, request: Request,
               snap: Snapshot, grid_ok: bool = True,
               export_permitted: bool = False,
               grid: GridEstimate | None = None,
               export_fraction: float = 1.0) -> DispatchResult:
        dt = self._dt(snap.t)
        dc_v = snap.analog_value("dc_link_v", self._config.protection.sensor_max_age_s)
        limits = power_limits(self._config, snap.ev, dc_v)
        note = ""
        if state is State.ENERGISED_CHARGE and request.mode == "charge":
            wanted = limits.charge_w if request.power_w is None else request.power_w
            target = min(wanted, limits.charge_w)
            note = f"charge, limited by {limits.reason_charge}"
        elif state is State.ENERGISED_V2H and request.mode == "v2h":
            ceiling = limits.discharge_w if request.power_w is None else min(
                limits.discharge_w, request.power_w)  # a power claim caps the discharge
            target, note = self._v2h_target(snap, ceiling, dt)
        elif state is State.ENERGISED_V2G and request.mode == "v2g":
            wanted = (self._config.v2g.default_export_w if request.power_w is None
                      else request.power_w)
            # Starting to export is entering service: held at zero, then ramped (grid window).
            target = -min(wanted, limits.discharge_w) * export_fraction
            note = f"v2g export, limited by {limits.reason_discharge}"
            if self._reserve_reached(snap):
                target, note = 0.0, "v2g: at reserve SoC"
        elif state is State.ENERGISED_V2L:
            target, note = 0.0, "v2l: grid-forming, the outlet's load sets the power"
        else:
            target = 0.0
            self._v2h_discharge_w = 0.0
        live = grid is not None and grid.voltage_present
        target, note = self._frequency_droop(state, snap.t, target,
                                             grid.frequency_hz if live and grid else None,
                                             limits, note)
        reactive = self._reactive_power(state, snap.t, grid.voltage_pu if live and grid else None)
        note = f"{note}; {reactive.note}" if reactive.note else note
        ramped = self._ramped(target, dt)
        # A lowered limit cuts at once (reactive power has priority over active power, and
        # volt-watt caps the output); so does v2h when the home would otherwise export.
        ramped = min(max(ramped, -min(limits.discharge_w, reactive.p_limit_w,
                                      reactive.output_limit_w)),
                     min(limits.charge_w, reactive.p_limit_w))
        if state is State.ENERGISED_V2H and target > ramped:
            ramped = target
        if ramped < 0.0 and not grid_ok:
            ramped = 0.0  # never keep delivering into an abnormal grid: cut, do not ramp
        elif (ramped < 0.0 and not export_permitted and snap.meter is not None
              and snap.meter.grid_power_w < 0.0):
            # Discharging and the meter sees export (the home load fell while ramping down, or
            # any state but v2g): take the exported part off at once.
            ramped = min(0.0, ramped - snap.meter.grid_power_w)
        if plan.inverter_mode is InverterMode.OFF:
            ramped = 0.0
        ceasing = self._ceasing(state, grid)
        if ceasing:
            if abs(ramped) > abs(self.power_w):
                ramped = self.power_w  # held through the cessation: it may fall, not rise
            note = f"{note}; momentary cessation: zero until the voltage is back"
        self.power_w = ramped
        sent_w = 0.0 if ceasing else ramped
        enable = plan.inverter_mode is not InverterMode.OFF
        charge_a, discharge_a = limits.dc_charge_a, limits.dc_discharge_a
        if plan.inverter_mode is InverterMode.GRID_FORMING:
            charge_a = 0.0  # forming never charges
            if state is State.ENERGISED_V2L:
                # The outlet gets what it is rated for (with margin: the controller, not the
                # inverter's current limit, decides to stop an overload).
                if dc_v:
                    rating_a = self._config.v2l.rated_power_w * V2L_CURRENT_MARGIN / dc_v
                    discharge_a = min(discharge_a, rating_a)
                if self._reserve_reached(snap):
                    discharge_a = 0.0
            elif snap.ev is not None and snap.ev.soc_pct <= self._config.backup.reserve_soc_pct:
                discharge_a = 0.0  # the outage reserve is spent: the mode machine stops
            note = note or "grid forming: the load sets the power"
        command = InverterCommand(
            mode=plan.inverter_mode, enable=enable, p_set_w=round(sent_w),
            q_set_var=(float(round(-reactive.q_var))  # + absorbs (DBC)
                       if enable and not ceasing else 0.0),
            sync_to_grid=plan.sync_to_grid and enable,
            dc_charge_limit_a=math.floor(charge_a) if enable else 0.0,
            dc_discharge_limit_a=math.floor(discharge_a) if enable else 0.0,
        )
        return DispatchResult(command, target, limits, note)
