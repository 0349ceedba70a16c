"""Cross-field rules: settings that are valid alone but contradict each other."""

from __future__ import annotations

import dataclasses
import math

from controller.config.der_settings import volt_var_curve
from controller.config.grid_codes import ELEMENTS, trip_range_problems
from controller.config.model import Config
from controller.console.pin_hash import parse_pin_hash
from hal.settings import (
    EXPANDER_INPUTS,
    EXPANDER_OUTPUT_ONLY,
    EXPANDER_OUTPUTS,
    ina228_limit_problems,
)

ISLAND_MAX_QF = 2.5  # the highest load quality factor the anti-islanding must handle
# IEEE 1547-2018 Table 24: the most aggressive droop and response time per category.
DROOP_MOST_AGGRESSIVE = {"I": (0.03, 1.0), "II": (0.03, 1.0), "III": (0.02, 0.2)}


def trip_overrides(config: Config) -> dict[str, float | None]:
    """The ``[inverter]`` trip settings as given (None: the category's default)."""
    inv = config.inverter
    keys = [f"{n}_pu" if n[1] == "v" else f"{n}_hz" for n in ELEMENTS]
    keys += [f"{n}_clearing_time_s" for n in ELEMENTS]
    return {key: getattr(inv, key) for key in keys}


def min_anti_islanding_gain(nominal_hz: float) -> float:
    """The least Sandia frequency-shift gain (1/Hz) with no non-detection zone for any load up to
    ``ISLAND_MAX_QF``: the inverter's phase must move faster with frequency than the RLC load's,
    pi / 2 * K > 2 Qf / f0 (``docs/grid-protection.md``, anti-islanding)."""
    return 4.0 * ISLAND_MAX_QF / (math.pi * nominal_hz)


def _droop_problems(config: Config) -> list[str]:
    """Frequency droop within its category's ranges (IEEE 1547-2018 Table 24)."""
    category = config.inverter.ride_through_category
    k_min, response_min = DROOP_MOST_AGGRESSIVE[category]
    droop = config.frequency_droop
    problems = [f"frequency_droop.{key} = {getattr(droop, key):g}: below {k_min:g}, the "
                f"least Category {category} allows" for key in ("k_of", "k_uf")
                if getattr(droop, key) < k_min - 1e-12]
    if droop.response_time_s < response_min - 1e-12:
        problems.append(f"frequency_droop.response_time_s = {droop.response_time_s:g}: below "
                        f"{response_min:g} s, the least Category {category} allows")
    return problems


def _reactive_problems(config: Config) -> list[str]:
    """The volt-var curve in order (V1 < V2 <= V3 < V4), volt-watt's V1 below its V2."""
    rp = config.reactive_power
    v, _ = volt_var_curve(rp)
    problems = []
    if not v[0] < v[1] <= v[2] < v[3]:
        problems.append(f"reactive_power.volt_var_v1_pu..v4_pu = {', '.join(f'{x:g}' for x in v)}"
                        ": must rise (V1 < V2 <= V3 < V4; unset points take the category's)")
    if rp.volt_watt_v1_pu >= rp.volt_watt_v2_pu:
        problems.append(f"reactive_power.volt_watt_v1_pu = {rp.volt_watt_v1_pu:g}: must be below "
                        f"volt_watt_v2_pu = {rp.volt_watt_v2_pu:g}")
    return problems


def _grid_code_problems(config: Config) -> list[str]:
    """IEEE 1547 trip overrides inside their category's range; enter-service window sane;
    the anti-islanding gain above the non-detection bound."""
    nominal = config.grid.nominal_frequency_hz
    problems = trip_range_problems("inverter", config.inverter.ride_through_category, nominal,
                                   trip_overrides(config))
    inv = config.inverter
    problems.extend(_droop_problems(config))
    problems.extend(_reactive_problems(config))
    least = min_anti_islanding_gain(nominal)
    if inv.anti_islanding and inv.anti_islanding_gain < least:
        problems.append(
            f"inverter.anti_islanding_gain = {inv.anti_islanding_gain:g}: leaves islands with a "
            f"load of Qf up to {ISLAND_MAX_QF:g} undetected at {nominal:g} Hz; at least "
            f"{math.ceil(least * 1000.0) / 1000.0:g} 1/Hz (4 x Qf / (pi x f0))")
    low, high = config.grid_protection.enter_service_frequency_hz(nominal)
    if not nominal - 1.0 - 1e-9 <= low <= nominal - 0.1 + 1e-9:
        problems.append(f"grid_protection.enter_service_frequency_min_hz = {low:g}: outside "
                        f"the allowed range {nominal - 1.0:g} to {nominal - 0.1:g} Hz")
    if not nominal + 0.1 - 1e-9 <= high <= nominal + 1.0 + 1e-9:
        problems.append(f"grid_protection.enter_service_frequency_max_hz = {high:g}: outside "
                        f"the allowed range {nominal + 0.1:g} to {nominal + 1.0:g} Hz")
    return problems


UART_DEVICES = frozenset({"/dev/serial0", "/dev/ttyAMA0", "/dev/ttyS0"})
UART_PINS = (14, 15)


def _pin_owners(config: Config) -> dict[int, list[str]]:
    owners: dict[int, list[str]] = {}
    gpio = config.hal.gpio
    for fld in dataclasses.fields(gpio.contactors):
        wiring = getattr(gpio.contactors, fld.name)
        key = f"hal.gpio.contactors.{fld.name}"
        if wiring.coil_pin is not None:
            owners.setdefault(wiring.coil_pin, []).append(f"{key}.coil_pin")
        if wiring.aux_pin is not None:
            owners.setdefault(wiring.aux_pin, []).append(f"{key}.aux_pin")
    for fld in dataclasses.fields(gpio.inputs):
        wiring = getattr(gpio.inputs, fld.name)
        if wiring.pin is not None:
            owners.setdefault(wiring.pin, []).append(f"hal.gpio.inputs.{fld.name}.pin")
    owners.setdefault(gpio.watchdog.kick_pin, []).append("hal.gpio.watchdog.kick_pin")
    if config.hal.backend == "pi" and UART_DEVICES.intersection(config.hal.serial.ports):
        for pin in UART_PINS:  # on the Pi the console's UART takes BCM 14 and 15 (sim: a pty)
            owners.setdefault(pin, []).append("hal.serial.ports (the UART)")
    return owners


def _timing_problems(config: Config) -> list[str]:
    """Age limits must leave room for the control period (and the ADC's round robin)."""
    tick = config.control.tick_s
    channels = len(dataclasses.fields(config.hal.i2c.adc.channels))
    p, s = config.protection, config.sequence
    rules = (
        ("protection.inverter_status_timeout_s", p.inverter_status_timeout_s, 2 * tick,
         "2 x control.tick_s"),
        ("protection.ev_report_timeout_s", p.ev_report_timeout_s, 2 * tick,
         "2 x control.tick_s"),
        ("protection.sensor_max_age_s", p.sensor_max_age_s, (channels + 1) * tick,
         f"{channels + 1} x control.tick_s (the ADC converts one channel per tick)"),
        ("sequence.contactor_timeout_s", s.contactor_timeout_s, 2 * tick, "2 x control.tick_s"),
        ("hal.i2c.ntc_adc.max_sample_age_s", config.hal.i2c.ntc_adc.max_sample_age_s,
         (len(dataclasses.fields(config.hal.i2c.ntc_adc.channels)) + 1) * tick,
         "one more tick than NTC channels (the converter converts one channel per tick)"),
        ("inverter.command_timeout_s", config.inverter.command_timeout_s, 2 * tick,
         "2 x control.tick_s, or the inverter ceases between commands"),
    )
    return [f"{key} = {value}: must be at least {minimum:g} s ({why}, control.tick_s = {tick})"
            for key, value, minimum, why in rules if value < minimum - 1e-12]


def _console_problems(config: Config) -> list[str]:
    """PIN hashes must parse and cost at least console.min_scrypt_n (never quoted in errors); on
    the Pi a console port needs a technician PIN."""
    console = config.console
    problems: list[str] = []
    for key in ("operator_pin_hash", "technician_pin_hash"):
        text = getattr(console, key)
        if not text:
            continue
        try:
            cost = parse_pin_hash(text).n
        except ValueError as err:
            problems.append(f"console.{key}: {err}")
            continue
        if cost < console.min_scrypt_n:
            problems.append(f"console.{key}: scrypt N = {cost} is below console.min_scrypt_n = "
                            f"{console.min_scrypt_n}: make a new hash with `v2xctl console "
                            "hash-pin`")
    ports = config.hal.serial.ports
    if config.hal.backend == "pi" and ports and not console.technician_pin_hash:
        # The console is the only reset path: a port no technician can log into leaves a
        # latched fault uncleared (the simulator's ptys may serve a read-only console).
        problems.append(f"console.technician_pin_hash: empty while hal.serial.ports serves the "
                        f"console on {', '.join(ports)}: nobody could clear a latched fault; "
                        "make one with `v2xctl console hash-pin` (hw/README.md, \"Technician "
                        "console\")")
    if console.lockout_max_s < console.lockout_s:
        problems.append(f"console.lockout_max_s = {console.lockout_max_s}: must be at least "
                        f"console.lockout_s = {console.lockout_s}")
    return problems


def cross_field_problems(config: Config) -> list[str]:
    """Every contradiction in an otherwise well-typed config, one line each."""
    problems: list[str] = []
    for pin, keys in sorted(_pin_owners(config).items()):
        if len(keys) > 1:
            problems.append(f"GPIO {pin} is used twice: {', '.join(keys)}")
    problems += _expander_problems(config)  # the MCP23017's pins (issue 19)
    gpio = config.hal.gpio
    for fld in dataclasses.fields(gpio.contactors):
        if getattr(gpio.contactors, fld.name).coil_pin is None:
            problems.append(f"hal.gpio.contactors.{fld.name}.coil_pin: required key is missing")
    for fld in dataclasses.fields(gpio.inputs):
        if getattr(gpio.inputs, fld.name).pin is None:
            problems.append(f"hal.gpio.inputs.{fld.name}.pin: required key is missing")
    channels = config.hal.i2c.adc.channels
    ains: dict[int, list[str]] = {}
    for fld in dataclasses.fields(channels):
        ains.setdefault(getattr(channels, fld.name).ain, []).append(fld.name)
    for ain, names in sorted(ains.items()):
        if len(names) > 1:
            problems.append(f"hal.i2c.adc.channels: AIN{ain} is used by {', '.join(names)}")
    can = config.hal.can
    if can.inverter_channel == can.ev_channel:
        problems.append(
            f"hal.can.ev_channel = {can.ev_channel!r}: must differ from "
            "hal.can.inverter_channel (the EV and the inverter are on separate buses)"
        )
    nominal = config.grid.nominal_frequency_hz
    low, high = config.protection.frequency_window_hz(nominal)
    if not low < nominal < high:
        problems.append(
            f"protection.frequency_min_hz/frequency_max_hz = {low}/{high} Hz: the window must "
            f"contain grid.nominal_frequency_hz = {nominal} Hz"
        )
    problems.extend(_timing_problems(config))
    seq = config.sequence
    if seq.insulation_test_timeout_s <= seq.insulation_test_s:
        problems.append(
            f"sequence.insulation_test_timeout_s = {seq.insulation_test_timeout_s}: must exceed "
            f"sequence.insulation_test_s = {seq.insulation_test_s} (the monitor needs that long "
            "to prove the insulation)")
    problems.extend(_grid_code_problems(config))
    if config.backup.reserve_soc_pct > config.v2h.reserve_soc_pct:
        problems.append(
            f"backup.reserve_soc_pct = {config.backup.reserve_soc_pct}: must not exceed "
            f"v2h.reserve_soc_pct = {config.v2h.reserve_soc_pct} (the outage reserve is the "
            "last part of the battery, below the discretionary one)")
    problems.extend(_console_problems(config))
    problems.extend(_rampdown_problems(config))
    ina228 = config.hal.i2c.ina228
    if ina228.enabled:  # issue 20: the fast DC alert's levels within the chip's range
        problems.extend(ina228_limit_problems(ina228))
    v2h = config.v2h
    if v2h.reserve_soc_pct + v2h.reserve_hysteresis_pct > 100.0:
        problems.append(
            f"v2h.reserve_hysteresis_pct = {v2h.reserve_hysteresis_pct}: reserve + hysteresis "
            f"exceeds 100 % (v2h.reserve_soc_pct = {v2h.reserve_soc_pct})"
        )
    return problems


# ----- a stop's ramp-down must finish before its timeout (issue 15, item 3) ----------------------
RAMPDOWN_SETTLE_S = 1.0  # after the ramp: the DC current seen below the threshold, the checks


def rampdown_rate_w_per_s(config: Config) -> float:
    """How fast the power command falls toward zero (``controller/dispatch/dispatcher.py``):
    the inverter's own ramp limit (it can follow no faster), or the controller's rise rate
    where that is faster still."""
    return max(config.inverter.ramp_rate_w_per_s, config.limits.ramp_rate_w_per_s)


def _rampdown_problems(config: Config) -> list[str]:
    """The largest power a grid-following stop starts from must ramp to zero, and the DC
    current settle, within ``sequence.rampdown_timeout_s`` (else every stop from full power
    would open the DC contactors under load)."""
    limits = config.limits
    start_w = min(config.inverter.rated_power_w,
                  max(limits.max_charge_power_w, limits.max_discharge_power_w))
    rate = rampdown_rate_w_per_s(config)
    needed = start_w / rate + RAMPDOWN_SETTLE_S
    timeout = config.sequence.rampdown_timeout_s
    if timeout >= needed:
        return []
    return [f"sequence.rampdown_timeout_s = {timeout}: a stop from {start_w:.0f} W at "
            f"{rate:.0f} W/s (the larger of inverter.ramp_rate_w_per_s and "
            f"limits.ramp_rate_w_per_s) needs {needed:.2f} s including {RAMPDOWN_SETTLE_S} s to "
            "settle: raise the timeout or the inverter's ramp rate"]


def _expander_problems(config: Config) -> list[str]:
    """The MCP23017's pins: each used once; GPA7/GPB7 are outputs only (hal/settings.py)."""
    pins = config.hal.i2c.expander.pins
    owners: dict[int, list[str]] = {}
    for name in (*EXPANDER_OUTPUTS, *EXPANDER_INPUTS):
        owners.setdefault(getattr(pins, name), []).append(f"hal.i2c.expander.pins.{name}")
    problems = [f"expander pin {pin} is used twice: {', '.join(keys)}"
                for pin, keys in sorted(owners.items()) if len(keys) > 1]
    for name in EXPANDER_INPUTS:
        if getattr(pins, name) in EXPANDER_OUTPUT_ONLY:
            problems.append(f"hal.i2c.expander.pins.{name} = {getattr(pins, name)}: GPA7 and "
                            "GPB7 are outputs only on the MCP23017 (DS20001952C); choose "
                            "another pin for an input")
    return problems
