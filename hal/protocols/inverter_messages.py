"""What the controller and the inverter say to each other, as typed values (not frames).

Sign convention everywhere in this project: AC power ``p_*_w`` is positive when the inverter draws
power from the AC bus into the EV (charging) and negative when it delivers power to the AC bus
(discharging: V2H, V2G, V2L, backup). DC current is positive into the EV.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class InverterMode(IntEnum):
    """Commanded operating mode."""

    OFF = 0
    GRID_FOLLOWING = 1
    GRID_FORMING = 2


class InverterState(IntEnum):
    """Reported operating state."""

    OFF = 0
    STARTING = 1
    GRID_FOLLOWING = 2
    GRID_FORMING = 3
    FAULT = 4


@dataclass(frozen=True, slots=True)
class InverterCommand:
    """The complete command, sent every cycle (never just changes)."""

    mode: InverterMode
    enable: bool
    p_set_w: float
    q_set_var: float
    dc_charge_limit_a: float
    dc_discharge_limit_a: float
    sync_to_grid: bool = False

    @staticmethod
    def off() -> InverterCommand:
        """The safe command: off, disabled, zero setpoints and zero current limits."""
        return InverterCommand(InverterMode.OFF, False, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class InverterStatus:
    """The inverter's own view of itself, assembled from its status frames."""

    state: InverterState
    dc_voltage_v: float
    dc_current_a: float
    ac_power_w: float
    ac_voltage_v: float
    ac_frequency_hz: float
    reactive_power_var: float
    temperature_c: float
    fault_word: int
    warning_word: int
    synced: bool = False


class RideThroughCategory(IntEnum):
    """IEEE 1547-2018 abnormal operating performance category (selects ride-through)."""

    CAT_I = 1
    CAT_II = 2
    CAT_III = 3


@dataclass(frozen=True, slots=True)
class InverterSettings:
    """The inverter's own protection and behaviour settings: written by the controller at start
    and after any change, read back from the inverter to verify.

    Trip elements follow IEEE 1547-2018: the inverter ceases to energise and trips when the
    voltage (per unit of nominal) or the frequency stays beyond the threshold, within the
    clearing time. ``anti_islanding_gain`` is the positive-feedback gain of the active
    anti-islanding method (Sandia frequency shift K, per Hz); ``ramp_rate_w_per_s`` limits how
    fast the inverter's AC power may change; ``command_timeout_s`` is how long the inverter keeps
    running without a valid command with an advancing alive counter.
    """

    ov2_pu: float
    ov2_clearing_time_s: float
    ov1_pu: float
    ov1_clearing_time_s: float
    uv1_pu: float
    uv1_clearing_time_s: float
    uv2_pu: float
    uv2_clearing_time_s: float
    of2_hz: float
    of2_clearing_time_s: float
    of1_hz: float
    of1_clearing_time_s: float
    uf1_hz: float
    uf1_clearing_time_s: float
    uf2_hz: float
    uf2_clearing_time_s: float
    ride_through_category: RideThroughCategory
    anti_islanding: bool
    anti_islanding_gain: float
    ramp_rate_w_per_s: float
    command_timeout_s: float
