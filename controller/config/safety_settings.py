"""The ``[safety]`` config section: one sub-section per interlock monitor, the retry policy and
the loop's liveness limits. Each monitor in ``controller/protection/`` reads only its own part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hal.config_fields import section, setting
from hal.errors import ConfigError


@dataclass(frozen=True)
class DoorSettings:
    open_debounce_s: float = setting(
        0.04, "the door must read open this long while energised before DOOR_OPEN latches "
        "(bounce filter; while idle an open door only blocks energising)", unit="s",
        min=0.0, max=1.0)
    release_debounce_s: float = setting(
        0.5, "an E-stop loop or door must read healthy this long before it counts as healthy "
        "again (a reset is refused until then)", unit="s", min=0.0, max=10.0)


@dataclass(frozen=True)
class GroundFaultSettings:
    debounce_s: float = setting(
        0.0, "the residual current monitor's alarm must last this long before GROUND_FAULT "
        "latches (the monitor has its own trip time)", unit="s", min=0.0, max=1.0)


@dataclass(frozen=True)
class InsulationSettings:
    debounce_s: float = setting(
        0.1, "the insulation monitor's alarm must last this long before INSULATION_FAULT "
        "latches", unit="s", min=0.0, max=5.0)


@dataclass(frozen=True)
class TemperatureSettings:
    ntc_beta_k: float = setting(3950.0, "NTC beta constant (25/85 degC)", unit="K", min=2000.0,
                                max=6000.0)
    ntc_r25_ohm: float = setting(10000.0, "NTC resistance at 25 degC", unit="ohm", min=100.0,
                                 max=1e6)
    pullup_ohm: float = setting(10000.0, "divider pull-up from the reference to the NTC",
                                unit="ohm", min=100.0, max=1e6)
    open_ratio: float = setting(
        0.97, "a divider ratio above this is an open sensor (TEMP_SENSOR_FAULT), not a cold "
        "reading", min=0.5, max=0.999)
    short_ratio: float = setting(
        0.03, "a divider ratio below this is a shorted sensor (TEMP_SENSOR_FAULT)", min=0.001,
        max=0.5)
    hysteresis_c: float = setting(
        5.0, "a derating step is left only this far below the temperature that entered it",
        unit="degC", min=0.5, max=30.0)
    inverter_derate_c: float = setting(75.0, "inverter heatsink: derating starts", unit="degC",
                                       min=30.0, max=150.0)
    inverter_stop_c: float = setting(90.0, "inverter heatsink: OVERTEMPERATURE stop",
                                     unit="degC", min=35.0, max=160.0)
    contactors_derate_c: float = setting(80.0, "DC contactors: derating starts", unit="degC",
                                         min=30.0, max=150.0)
    contactors_stop_c: float = setting(100.0, "DC contactors: OVERTEMPERATURE stop",
                                       unit="degC", min=35.0, max=160.0)
    inlet_derate_c: float = setting(70.0, "cable inlet: derating starts", unit="degC",
                                    min=30.0, max=150.0)
    inlet_stop_c: float = setting(90.0, "cable inlet: OVERTEMPERATURE stop (CHAdeMO: 90 degC "
                                  "class)", unit="degC", min=35.0, max=160.0)


@dataclass(frozen=True)
class DcCurrentSettings:
    margin_a: float = setting(
        5.0, "DC_OVERCURRENT when the DC current exceeds the smallest of the EV, inverter and "
        "cable limits by this much", unit="A", min=0.0, max=50.0)
    delay_s: float = setting(0.1, "for this long", unit="s", min=0.0, max=2.0)


@dataclass(frozen=True)
class PlausibilitySettings:
    power_tolerance_w: float = setting(
        1500.0, "POWER_IMPLAUSIBLE when the inverter's AC power differs from the command by more "
        "than this (grid-following only)", unit="W", min=100.0, max=20000.0)
    power_delay_s: float = setting(2.0, "for this long", unit="s", min=0.1, max=30.0)
    dc_voltage_tolerance_v: float = setting(
        15.0, "MEASUREMENT_DISAGREE when the controller's DC link voltage and the inverter's "
        "report differ by more than this", unit="V", min=1.0, max=100.0)
    dc_current_tolerance_a: float = setting(
        10.0, "MEASUREMENT_DISAGREE when the controller's DC current and the inverter's report "
        "differ by more than this", unit="A", min=1.0, max=100.0)
    ac_voltage_tolerance_pct: float = setting(
        5.0, "MEASUREMENT_DISAGREE when the PCC meter's and the inverter's AC voltage differ by "
        "more than this (K_AC and K_GRID closed)", unit="%", min=1.0, max=30.0)
    disagree_delay_s: float = setting(1.0, "a disagreement must last this long", unit="s",
                                      min=0.1, max=30.0)


@dataclass(frozen=True)
class PrechargeSettings:
    stall_fraction: float = setting(
        0.1, "PRECHARGE_TIMEOUT early when the DC link is below this fraction of the EV inlet "
        "voltage halfway through sequence.precharge_timeout_s (an open resistor)", min=0.01,
        max=0.9)


@dataclass(frozen=True)
class RetrySettings:
    max_retries: int = setting(
        3, "a transient fault (retry in the catalogue) is cleared automatically at most this "
        "many times within retry_window_s; the next one stays latched", min=0, max=10)
    backoff_s: float = setting(
        10.0, "the first automatic retry waits this long with the cause gone; each next one "
        "twice as long", unit="s", min=1.0, max=3600.0)
    retry_window_s: float = setting(
        3600.0, "retries are counted over this window", unit="s", min=60.0, max=86400.0)
    latch_after_close_s: float = setting(
        2.0, "any fault within this of closing the contactors latches without retry",
        unit="s", min=0.0, max=60.0)


@dataclass(frozen=True)
class LoopSettings:
    max_tick_s: float = setting(
        0.1, "LOOP_OVERRUN when one control tick takes longer than this (the inverter's "
        "command timeout class)", unit="s", min=0.01, max=5.0)
    stop_deadline_s: float = setting(
        8.0, "a STOP fault that has not reached a safe state within this opens everything "
        "at once (an emergency)", unit="s", min=1.0, max=60.0)


@dataclass(frozen=True)
class MeterPlausibilitySettings:
    """A meter that answers but whose values stopped meaning anything
    (``controller/protection/meter_plausibility.py``; thresholds justified in docs/safety.md)."""

    identical_readings: int = setting(
        5, "METER_IMPLAUSIBLE when this many readings in a row repeat the previous one bit for "
        "bit in both RMS voltage and grid power, with voltage present (a live ADE7953's noise "
        "always moves them; a frozen input or DSP does not)", min=3, max=1000)
    energy_stall_s: float = setting(
        1.0, "METER_IMPLAUSIBLE when the grid energy counters do not advance for this long "
        "(and at least 14 readings, two rounds of the driver's slow registers) while the grid "
        "power reads at least energy_min_power_w", unit="s", min=0.2, max=10.0)
    energy_min_power_w: float = setting(
        50.0, "the energy check applies only while the grid power reads at least this much "
        "(above the chip's no-load threshold)", unit="W", min=1.0, max=5000.0)
    response_window_s: float = setting(
        5.0, "grid-following with K_AC and K_GRID closed: the window over which the meter's "
        "grid power must follow the inverter's own AC power", unit="s", min=1.0, max=60.0)
    response_min_change_w: float = setting(
        2000.0, "the response check judges a window only once the inverter's AC power moved "
        "by at least this much inside it", unit="W", min=200.0, max=20000.0)
    response_fraction: float = setting(
        0.2, "METER_IMPLAUSIBLE when the meter's grid power moved by less than this fraction "
        "of the inverter's movement over the window", min=0.01, max=0.9)

    def __post_init__(self) -> None:
        for name in ("energy_stall_s", "energy_min_power_w", "response_window_s",
                     "response_min_change_w", "response_fraction"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ConfigError([f"safety.meter.{name} = {value!r}: not a finite number"])


@dataclass(frozen=True)
class SafetySettings:
    door: DoorSettings = section(DoorSettings, "E-stop and enclosure door input filtering")
    ground_fault: GroundFaultSettings = section(GroundFaultSettings,
                                                "residual current monitor input")
    insulation: InsulationSettings = section(
        InsulationSettings, "insulation monitor input (the pre-close test: [sequence])")
    temperature: TemperatureSettings = section(TemperatureSettings,
                                               "NTC temperatures: derating ladder and stop")
    dc_current: DcCurrentSettings = section(DcCurrentSettings, "DC over-current")
    plausibility: PlausibilitySettings = section(
        PlausibilitySettings, "commanded vs measured power; controller vs inverter measurements")
    precharge: PrechargeSettings = section(PrechargeSettings, "precharge supervision")
    retry: RetrySettings = section(RetrySettings, "automatic retry of transient faults")
    loop: LoopSettings = section(LoopSettings, "control loop liveness and stop deadline")
    meter: MeterPlausibilitySettings = section(
        MeterPlausibilitySettings, "a frozen or implausible PCC meter (it answers, its values "
        "stopped meaning anything)")
