"""Turns the mode, the request, the limits and the measurements into one inverter command.

Charge: up to the smallest limit. V2H: discharge so grid import follows a small positive target,
integrating the import error, with an immediate cut when the home would export; the reserve SoC
stops discharge with hysteresis. Every other state: zero. Changes are ramp-limited, except cuts
that prevent export or obey a lowered limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.config.model import Config
from controller.dispatch.limits import PowerLimits, power_limits
from controller.modes.plan import OutputPlan
from controller.modes.requests import Request
from controller.modes.states import State
from controller.supervisor.snapshot import Snapshot
from hal.protocols.inverter_messages import InverterCommand, InverterMode


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

    def _dt(self, t: float) -> float:
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        return dt

    def _v2h_target(self, snap: Snapshot, limits: PowerLimits, dt: float) -> tuple[float, str]:
        cfg = self._config.v2h
        ev = snap.ev
        if ev is not None:
            if ev.soc_pct <= cfg.reserve_soc_pct:
                self._at_reserve = True
            elif ev.soc_pct >= cfg.reserve_soc_pct + cfg.reserve_hysteresis_pct:
                self._at_reserve = False
        if self._at_reserve or snap.meter is None:
            self._v2h_discharge_w = 0.0
            return 0.0, "at reserve SoC" if self._at_reserve else "no meter reading"
        error = snap.meter.grid_power_w - cfg.import_target_w
        if snap.meter.grid_power_w < 0.0:
            self._v2h_discharge_w += error  # exporting: cut at once, no integration lag
        else:
            self._v2h_discharge_w += cfg.follow_gain * error * dt
        self._v2h_discharge_w = min(max(self._v2h_discharge_w, 0.0), limits.discharge_w)
        return -self._v2h_discharge_w, f"following import target {cfg.import_target_w:.0f} W"

    def update(self, state: State, plan: OutputPlan, request: Request,
               snap: Snapshot) -> DispatchResult:
        dt = self._dt(snap.t)
        dc_v = snap.analog_value("dc_link_v", self._config.protection.sensor_max_age_s)
        limits = power_limits(self._config, snap.ev, dc_v)
        note = ""
        if state is State.ENERGISED_CHARGE and request.mode == "charge":
            wanted = limits.charge_w if request.power_w is None else request.power_w
            target = min(wanted, limits.charge_w)
            note = f"charge, limited by {limits.reason_charge}"
        elif state is State.ENERGISED_V2H and request.mode == "v2h":
            target, note = self._v2h_target(snap, limits, dt)
        else:
            target = 0.0
            self._v2h_discharge_w = 0.0
        step = self._config.limits.ramp_rate_w_per_s * dt
        ramped = self.power_w + max(-step, min(step, target - self.power_w))
        # A lowered limit cuts at once; so does v2h when the home would otherwise export.
        ramped = min(max(ramped, -limits.discharge_w), limits.charge_w)
        if state is State.ENERGISED_V2H and target > ramped:
            ramped = target
        if plan.inverter_mode is InverterMode.OFF:
            ramped = 0.0
        self.power_w = ramped
        enable = plan.inverter_mode is not InverterMode.OFF
        command = InverterCommand(
            mode=plan.inverter_mode, enable=enable, p_set_w=round(ramped),
            q_set_var=0.0,
            dc_charge_limit_a=math.floor(limits.dc_charge_a) if enable else 0.0,
            dc_discharge_limit_a=math.floor(limits.dc_discharge_a) if enable else 0.0,
        )
        return DispatchResult(command, target, limits, note)
