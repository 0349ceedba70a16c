"""The bidirectional inverter's power stage and firmware behaviour (not its CAN side).

It follows the commanded mode and power with its own ramp limit on rises and losses. A reduction
of |P| toward zero (an export cut, curtailment, a stop, an OFF command) follows within one
command cycle, as the protocol requires (docs/inverter-protocol.md, RampRate): the power slews
down at the rated power per ``CUT_TIME_S``, like a real power stage, not in one plant step, so
contacts that part in the same cycle as an OFF command still break current and the plant records
it. It ceases by itself at once (output to zero, state OFF) on its own faults, when its CAN port
reports no valid, advancing command within the command timeout (the second safety layer of
ARCHITECTURE.md section 2), and when its AC or DC side is gone. Running grid-following with
Category III settings it ceases momentarily (output zero, still GRID_FOLLOWING, no trip) while
its terminal voltage is in a momentary-cessation region, and restores fast when it is back
(``hal/sim/plant/inverter_cessation.py``).

``ignoring`` models firmware or a power stage that no longer follows its commands (item 4 of
issue 15): it holds the power it had, through setpoint changes, OFF commands and the command
timeout alike; only losing its AC bus (K_AC open) or its DC supply stops it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterMode,
    InverterSettings,
    InverterState,
)
from hal.sim.plant.inverter_cessation import RESTORE_SLEW_S, MomentaryCessation

FAULT_COMMAND_TIMEOUT = 1 << 8  # FaultWord b8
# FaultWord bits 3 (AC over-voltage), 4 (AC under-voltage), 5 (AC frequency), 7 (islanding) and
# 8 (command timeout): conditions of the grid or the link, cleared by a valid OFF command.
ACKNOWLEDGED_BY_OFF = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 7) | FAULT_COMMAND_TIMEOUT
# Synchronisation (grid forming, SyncToGrid): IEEE 1547-2018 Table 5 limits for a small DER
# (0.3 Hz, 10 % voltage, 20 degrees), held with margin; the phase loop slips at most 0.5 Hz.
SYNC_PHASE_DEG = 10.0
SYNC_FREQUENCY_HZ = 0.1
SYNC_VOLTAGE_PU = 0.05
SYNC_GAIN_HZ_PER_DEG = 0.01
SYNC_MAX_SLIP_HZ = 0.5
# Active anti-islanding (Sandia frequency shift): chopping fraction cf = cf0 + K (f - f_nom),
# the current leads the voltage by pi / 2 * cf. K comes from the settings (AntiIslandingGain).
SFS_CF0 = 0.01
CUT_TIME_S = 0.015  # a reduction of |P| follows within one command cycle (INV_CMD, 20 ms)


@dataclass
class InverterParams:
    rated_power_w: float = 11000.0
    ramp_w_per_s: float = 20000.0
    efficiency: float = 0.96
    start_delay_s: float = 0.10
    min_dc_voltage_v: float = 150.0
    min_ac_voltage_pu: float = 0.3  # IEEE 1547 Category II: permissive operation down to 0.30 p.u.
    nominal_frequency_hz: float = 60.0
    ambient_c: float = 25.0
    temp_rise_c_at_rated: float = 35.0
    thermal_tau_s: float = 300.0


class InverterModel:
    """Power stage state; ``step`` returns the AC power it exchanges this step (+ = import)."""

    def __init__(self, params: InverterParams, nominal_voltage_v: float) -> None:
        self.params = params
        self.nominal_voltage_v = nominal_voltage_v
        self.state = InverterState.OFF
        self.ac_power_w = 0.0
        self.reactive_power_var = 0.0
        self.temperature_c = params.ambient_c
        self.ceased_for_timeout = 0
        self.ramp_w_per_s = params.ramp_w_per_s
        self.fault_word = 0  # INV_FAULT FaultWord bits (hal/protocols/inverter.dbc)
        # Grid forming: the formed voltage's phase (against the nominal-frequency reference the
        # utility's phase is also measured against) and frequency; ``grid_side`` is what the
        # inverter measures across the open K_GRID: (phase deg, Hz, p.u.), None when dead.
        self.phase_deg = 0.0
        self.frequency_hz = params.nominal_frequency_hz
        self.synced = False
        self.grid_side: tuple[float, float, float] | None = None
        self._ready_since: float | None = None
        self._cmd_present = False
        self.settings: InverterSettings | None = None
        self.ignoring = False  # stuck firmware: holds its power whatever it is told
        self.cessation = MomentaryCessation()
        # The heatsink is sized for the rating built in (a failing stage that can deliver less,
        # e.g. the "inverter_power_stuck" fault, does not make the heatsink smaller).
        self._thermal_rating_w = params.rated_power_w

    @property
    def mode_name(self) -> str:
        """Ground-truth mode: off / grid-following / grid-forming."""
        if self.state is InverterState.GRID_FOLLOWING:
            return "grid-following"
        if self.state is InverterState.GRID_FORMING:
            return "grid-forming"
        return "off"

    def dc_power_w(self) -> float:
        """Power on the DC side (+ = into the EV), losses included."""
        eff = self.params.efficiency
        return self.ac_power_w * eff if self.ac_power_w >= 0 else self.ac_power_w / eff

    def configure(self, settings: InverterSettings | None) -> None:
        """Run with the settings the CAN port applied (None: the factory parameters)."""
        self.ramp_w_per_s = (self.params.ramp_w_per_s if settings is None
                             else settings.ramp_rate_w_per_s)
        self.settings = settings

    @property
    def anti_islanding(self) -> bool:
        """Active anti-islanding runs only with applied settings that enable it."""
        return self.settings is not None and self.settings.anti_islanding

    def current_lead_rad(self, frequency_hz: float) -> float:
        """How far the output current leads the bus voltage: the reactive setpoint plus the
        Sandia frequency shift (positive feedback on the frequency deviation)."""
        p = -self.ac_power_w
        lead = -math.atan2(self.reactive_power_var, p) if p > 0.0 else 0.0
        if self.anti_islanding and self.settings is not None:
            cf = SFS_CF0 + self.settings.anti_islanding_gain * (
                frequency_hz - self.params.nominal_frequency_hz)
            lead += math.pi / 2.0 * cf
        return lead

    def fault(self, bits: int) -> None:
        """Latch fault bits: the power stage stops and stays in FAULT until they are cleared."""
        self.fault_word |= bits
        self._cease()
        self.state = InverterState.FAULT

    def _cease(self) -> None:
        self.cessation.reset()
        self.synced = False
        self.state = InverterState.OFF
        self.ac_power_w = 0.0
        self.reactive_power_var = 0.0
        self._ready_since = None

    def step(self, now: float, dt: float, command: InverterCommand | None, ac_bus_v: float,
             external_voltage: bool, dc_link_v: float, formed_load_w: float) -> None:
        """Advance one plant step.

        ``command`` is None when the CAN port has no valid fresh command (timeout): cease.
        ``external_voltage`` tells whether something other than this inverter holds the AC bus
        up; ``formed_load_w`` is the load on the bus when this inverter forms it.
        """
        self._thermal(dt)
        if self.ignoring and self.state in (InverterState.GRID_FOLLOWING,
                                            InverterState.GRID_FORMING):
            if not self._powered(ac_bus_v, dc_link_v):
                self._cease()  # no bus to deliver into: the power stops whatever it wants
            return
        if command is None:
            if self._cmd_present and self.state not in (InverterState.OFF, InverterState.FAULT):
                self.ceased_for_timeout += 1
                self.fault(FAULT_COMMAND_TIMEOUT)  # stopped while running: report it
            self._cmd_present = False
            if self.state is not InverterState.FAULT:
                self._cease()
            return
        self._cmd_present = True
        off = not command.enable or command.mode is InverterMode.OFF
        if off and self.fault_word & ACKNOWLEDGED_BY_OFF:
            # Grid conditions and a command timeout are not equipment faults: a valid OFF
            # command acknowledges them (docs/inverter-protocol.md, section 8); the controller
            # decides when the grid is fit to return to (IEEE 1547 enter service).
            self.fault_word &= ~ACKNOWLEDGED_BY_OFF
        if self.fault_word:
            self._cease()
            self.state = InverterState.FAULT
            return
        if off:
            running = self.state in (InverterState.GRID_FOLLOWING, InverterState.GRID_FORMING)
            if running and self._powered(ac_bus_v, dc_link_v):
                self.ac_power_w = self._ramped(0.0, dt)  # stopping: within one cycle
                self.reactive_power_var = 0.0
                if self.ac_power_w != 0.0:
                    return
            self._cease()
            return
        ready = dc_link_v >= self.params.min_dc_voltage_v
        if command.mode is InverterMode.GRID_FOLLOWING:
            ready = ready and ac_bus_v >= self.params.min_ac_voltage_pu * self.nominal_voltage_v
        else:
            ready = ready and not external_voltage
        if not ready:
            self._cease()
            self.state = InverterState.STARTING
            return
        if self._ready_since is None:
            self._ready_since = now
        if now - self._ready_since < self.params.start_delay_s:
            self.state = InverterState.STARTING
            return
        if command.mode is InverterMode.GRID_FOLLOWING:
            self.state = InverterState.GRID_FOLLOWING
            target = self._limit(command.p_set_w, command, dc_link_v)
            if self.cessation.update(now, self.settings, ac_bus_v / self.nominal_voltage_v):
                self.ac_power_w = self._ramped(0.0, dt)  # momentary cessation: no current
                self.reactive_power_var = 0.0
                return
            rise = (self.params.rated_power_w / RESTORE_SLEW_S
                    if self.cessation.restoring(now) else None)
            self.ac_power_w = self._ramped(target, dt, rise)
            self.reactive_power_var = command.q_set_var
        else:
            self.state = InverterState.GRID_FORMING
            self.ac_power_w = -self._limit(formed_load_w, command, dc_link_v, forming=True)
            self._form(dt, command.sync_to_grid)

    def _powered(self, ac_bus_v: float, dc_link_v: float) -> bool:
        """Both sides of the power stage are there to carry power."""
        return (dc_link_v >= self.params.min_dc_voltage_v
                and ac_bus_v >= self.params.min_ac_voltage_pu * self.nominal_voltage_v)

    def _form(self, dt: float, sync: bool) -> None:
        """Formed voltage phase and frequency; with ``sync`` it phase-locks to the grid side."""
        nominal_hz = self.params.nominal_frequency_hz
        if sync and self.grid_side is not None:
            grid_phase, grid_hz, grid_pu = self.grid_side
            error = (grid_phase - self.phase_deg + 180.0) % 360.0 - 180.0
            self.frequency_hz = grid_hz + max(-SYNC_MAX_SLIP_HZ,
                                              min(SYNC_MAX_SLIP_HZ, SYNC_GAIN_HZ_PER_DEG * error))
            self.synced = (abs(error) < SYNC_PHASE_DEG and abs(grid_pu - 1.0) < SYNC_VOLTAGE_PU
                           and abs(self.frequency_hz - grid_hz) < SYNC_FREQUENCY_HZ)
        else:
            self.frequency_hz = nominal_hz
            self.synced = False
        self.phase_deg = (self.phase_deg + 360.0 * (self.frequency_hz - nominal_hz) * dt) % 360.0

    def _ramped(self, target: float, dt: float, rise_w_per_s: float | None = None) -> float:
        """Rises are limited to the ramp rate (``rise_w_per_s`` when restoring after a
        momentary cessation); a reduction toward zero (through zero first when the sign
        changes) slews at the rated power per ``CUT_TIME_S``."""
        current = self.ac_power_w
        if current * target < 0.0 or abs(target) < abs(current):
            goal = 0.0 if current * target < 0.0 else target
            cut = max(self.ramp_w_per_s, self.params.rated_power_w / CUT_TIME_S) * dt
            current += max(-cut, min(cut, goal - current))
            if current != goal or goal == target:
                return current
        step = max(self.ramp_w_per_s, rise_w_per_s or 0.0) * dt
        return current + max(-step, min(step, target - current))

    def _limit(self, p_w: float, command: InverterCommand, dc_link_v: float,
               forming: bool = False) -> float:
        rated = self.params.rated_power_w
        eff = self.params.efficiency
        if forming:
            cap = min(rated, command.dc_discharge_limit_a * dc_link_v * eff)
            return max(0.0, min(p_w, cap))
        charge_cap = min(rated, command.dc_charge_limit_a * dc_link_v / eff)
        discharge_cap = min(rated, command.dc_discharge_limit_a * dc_link_v * eff)
        return max(-discharge_cap, min(p_w, charge_cap))

    def _thermal(self, dt: float) -> None:
        p = self.params
        target = p.ambient_c + p.temp_rise_c_at_rated * abs(self.ac_power_w) / (
            self._thermal_rating_w)
        self.temperature_c += (target - self.temperature_c) * min(1.0, dt / p.thermal_tau_s)
