"""Cross-field rules: settings that are valid alone but contradict each other."""

from __future__ import annotations

import dataclasses

from controller.config.model import Config


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
        ("inverter.command_timeout_s", config.inverter.command_timeout_s, 2 * tick,
         "2 x control.tick_s, or the inverter ceases between commands"),
    )
    return [f"{key} = {value}: must be at least {minimum:g} s ({why}, control.tick_s = {tick})"
            for key, value, minimum, why in rules if value < minimum - 1e-12]


def cross_field_problems(config: Config) -> list[str]:
    """Every contradiction in an otherwise well-typed config, one line each."""
    problems: list[str] = []
    for pin, keys in sorted(_pin_owners(config).items()):
        if len(keys) > 1:
            problems.append(f"GPIO {pin} is used twice: {', '.join(keys)}")
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
    if config.backup.reserve_soc_pct > config.v2h.reserve_soc_pct:
        problems.append(
            f"backup.reserve_soc_pct = {config.backup.reserve_soc_pct}: must not exceed "
            f"v2h.reserve_soc_pct = {config.v2h.reserve_soc_pct} (the outage reserve is the "
            "last part of the battery, below the discretionary one)")
    v2h = config.v2h
    if v2h.reserve_soc_pct + v2h.reserve_hysteresis_pct > 100.0:
        problems.append(
            f"v2h.reserve_hysteresis_pct = {v2h.reserve_hysteresis_pct}: reserve + hysteresis "
            f"exceeds 100 % (v2h.reserve_soc_pct = {v2h.reserve_soc_pct})"
        )
    return problems
