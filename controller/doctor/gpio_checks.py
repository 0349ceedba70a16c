"""GPIO: every pin claimable, the safety inputs plausible, every aux contact agreeing with a
de-energised coil. Only inputs are read; no coil is ever driven (they were constructed off)."""

from __future__ import annotations

import dataclasses

from controller.doctor.devices import Devices
from controller.doctor.report import Check, failed, passed, skipped
from hal.settings import ContactorWiring, InputWiring

LABELS = {"grid": "K_GRID", "ac": "K_AC", "v2l": "K_V2L", "dc": "K_DC", "precharge": "K_PRE"}
SERVICE_HINT = ("if the controller service is running it holds these pins: stop it first "
                "(`sudo systemctl stop v2x-controller`)")


def _pins(devices: Devices) -> list[int]:
    gpio = devices.settings.gpio
    pins: list[int] = []
    for f in dataclasses.fields(gpio.contactors):
        wiring: ContactorWiring = getattr(gpio.contactors, f.name)
        pins += [p for p in (wiring.coil_pin, wiring.aux_pin) if p is not None]
    for f in dataclasses.fields(gpio.inputs):
        pin = getattr(gpio.inputs, f.name).pin
        if pin is not None:
            pins.append(pin)
    return pins


def claim_check(devices: Devices) -> Check:
    name = "gpio.claim"
    if devices.unreachable:
        return skipped(name, f"not checked: {devices.unreachable}")
    pins = ", ".join(str(p) for p in _pins(devices))
    if not devices.gpio_problems:
        how = "backend built" if devices.built else "claimed one by one"
        return passed(name, f"{len(devices.contactors)} contactors (coils de-energised) and "
                            f"{len(devices.inputs)} inputs claimed ({how}; BCM {pins})")
    return failed(
        name, f"{len(devices.gpio_problems)} problem(s) claiming GPIO, listed below",
        "on a Raspberry Pi install the 'pi' extra (lgpio) and run as a user in the gpio group; "
        "check no two devices share a pin in the [hal.gpio] config; " + SERVICE_HINT,
        items=devices.gpio_problems)


def _polarity(wiring: InputWiring) -> str:
    return f"BCM {wiring.pin}, active {'high' if wiring.active_high else 'low'}"


def input_checks(devices: Devices) -> list[Check]:
    inputs = devices.settings.gpio.inputs
    checks: list[Check] = []
    for key, ok_text, bad_text, bad_hint in (
        ("estop", "E-stop loop closed, healthy", "E-stop loop reads OPEN",
         "release every E-stop button, then check the E-stop loop wiring end to end and its "
         "sense input; nothing can be energised while the loop is open"),
        ("door", "enclosure door closed", "enclosure door reads OPEN",
         "close the enclosure door; if it is closed, check the door switch and its wiring"),
    ):
        name = f"input.{key}"
        wiring: InputWiring = getattr(inputs, key)
        device = devices.inputs.get(key)
        if device is None:
            checks.append(skipped(name, f"not read: the input was not claimed ({_polarity(wiring)})"
                                  if not devices.unreachable else
                                  f"not checked: {devices.unreachable}"))
            continue
        if device.read():
            checks.append(passed(name, f"{ok_text} ({_polarity(wiring)})"))
        else:
            checks.append(failed(name, f"{bad_text} ({_polarity(wiring)})",
                                 f"{bad_hint}; check hal.gpio.inputs.{key} (pin, active_high, "
                                 f"pull) matches the wiring"))
    ev = devices.inputs.get("ev_present")
    wiring = inputs.ev_present
    if ev is None:
        reason = devices.unreachable or "the input was not claimed"
        checks.append(skipped("input.ev_present", f"not read: {reason} ({_polarity(wiring)})"))
    else:
        state = "an EV is plugged in" if ev.read() else "no EV plugged in"
        checks.append(passed("input.ev_present", f"{state} (informational; {_polarity(wiring)})"))
    return checks


def contactor_checks(devices: Devices) -> list[Check]:
    gpio = devices.settings.gpio.contactors
    checks: list[Check] = []
    for f in dataclasses.fields(gpio):
        key = f.name
        wiring: ContactorWiring = getattr(gpio, key)
        label = LABELS.get(key, key)
        name = f"contactor.{key}"
        contactor = devices.contactors.get(key)
        if devices.unreachable:
            checks.append(skipped(name, f"not checked: {devices.unreachable}"))
            continue
        if wiring.aux_pin is None:
            checks.append(skipped(name, f"{label}: no aux contact wired "
                                        f"(hal.gpio.contactors.{key}.aux_pin)"))
            continue
        if contactor is None:
            checks.append(skipped(name, f"{label}: not claimed (see gpio.claim)"))
            continue
        feedback = contactor.feedback_closed
        expected = wiring.normally_closed
        kind = "normally closed" if expected else "normally open"
        where = f"aux on BCM {wiring.aux_pin}"
        if feedback == expected:
            state = "closed" if expected else "open"
            checks.append(passed(name, f"{label} reads {state} with its coil de-energised "
                                       f"({kind}, {where})"))
        elif expected:
            checks.append(failed(
                name, f"{label} reads OPEN with its coil de-energised, but it is normally "
                      f"closed ({where})",
                f"check {label}: is its coil powered from elsewhere, is the mechanism stuck "
                f"open? Then the aux contact wiring on BCM {wiring.aux_pin} and "
                f"hal.gpio.contactors.{key}.aux_closed_high"))
        else:
            checks.append(failed(
                name, f"{label} reads CLOSED with its coil de-energised: welded contacts or "
                      f"miswired aux ({where})",
                f"do not energise anything: isolate the charger and check {label}'s main "
                f"contacts for welding (continuity with the coil dropped); then the aux "
                f"contact wiring on BCM {wiring.aux_pin} and "
                f"hal.gpio.contactors.{key}.aux_closed_high"))
    return checks
