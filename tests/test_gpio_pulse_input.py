"""A digital input that catches pulses (``hal/gpio_devices.py``, ``catch_pulses``): an assertion
between two reads counts once even when released before the second read, for every wiring of
polarity and pull. Without it a chip's latched alert line, released by an I2C read in the Pi's
reader thread, could be missed (``tests/test_ads1115_comparator.py``)."""

from __future__ import annotations

import pytest
from gpiozero.exc import DeviceClosed
from gpiozero.pins.mock import MockFactory, MockPin

from hal.errors import HalSetupError
from hal.gpio_devices import GpioContactor, GpioInput
from hal.settings import ContactorWiring, InputWiring, WatchdogWiring
from hal.sim.plant_pins import plant_pin_factory
from hal.watchdog_kick import GpioWatchdogKick
from harness import Charger

PIN = 17

# (wiring, the pin's level when asserted)
WIRINGS = [
    (InputWiring(pin=PIN, active_high=False, pull="up"), False),  # the DC alert line
    (InputWiring(pin=PIN, active_high=True, pull="up"), True),  # inverted in GpioInput
    (InputWiring(pin=PIN, active_high=True, pull="down"), True),
    (InputWiring(pin=PIN, active_high=False, pull="down"), False),  # inverted
    (InputWiring(pin=PIN, active_high=True, pull="none"), True),
    (InputWiring(pin=PIN, active_high=False, pull="none"), False),
]


def _input(wiring: InputWiring, catch: bool) -> tuple[GpioInput, object]:
    factory = plant_pin_factory()
    pin = factory.pin(PIN)
    device = GpioInput("dc_alert", wiring, factory, catch_pulses=catch)
    return device, pin


@pytest.mark.parametrize(("wiring", "asserted_level"), WIRINGS)
def test_a_pulse_between_two_reads_is_read_once(wiring: InputWiring,
                                                asserted_level: bool) -> None:
    device, pin = _input(wiring, catch=True)
    pin.hold(not asserted_level)  # type: ignore[attr-defined]
    assert device.read() is False
    pin.hold(asserted_level)  # type: ignore[attr-defined]
    pin.hold(not asserted_level)  # type: ignore[attr-defined]  # released before the read
    assert device.read() is True
    assert device.read() is False  # seen once
    pin.hold(asserted_level)  # type: ignore[attr-defined]
    assert device.read() is True  # a held level reads as the level, read after read
    assert device.read() is True
    pin.hold(not asserted_level)  # type: ignore[attr-defined]
    assert device.read() is False
    device.close()


@pytest.mark.parametrize(("wiring", "asserted_level"), WIRINGS)
def test_a_plain_input_reads_the_level_only(wiring: InputWiring, asserted_level: bool) -> None:
    device, pin = _input(wiring, catch=False)
    pin.hold(not asserted_level)  # type: ignore[attr-defined]
    pin.hold(asserted_level)  # type: ignore[attr-defined]
    pin.hold(not asserted_level)  # type: ignore[attr-defined]
    assert device.read() is False
    device.close()


def test_only_the_dc_alert_line_catches_pulses() -> None:
    """The E-stop, door and monitor inputs are levels (a maintained switch or relay); the DC
    alert line is the one a read releases."""
    c = Charger()
    catching = {name for name, i in c.hw.inputs.items() if getattr(i, "catch_pulses", False)}
    assert catching == {"dc_alert"}
    c.close()


class _BusyPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    """A pin another process holds: on a Pi lgpio raises its own error type (``lgpio.error``,
    not a gpiozero error) when gpiozero claims it."""

    def _set_function(self, value: str) -> None:
        if not getattr(self, "_refused", False):  # the claim; gpiozero's clean-up may follow
            self._refused = True
            raise RuntimeError("GPIO busy")
        super()._set_function(value)


def test_a_pin_another_process_holds_is_a_setup_error_naming_it() -> None:
    """Before, lgpio's error went through as it was (a traceback, not the pin's name)."""
    wiring = InputWiring(pin=PIN, active_high=False, pull="up")
    for catch in (True, False):
        with pytest.raises(HalSetupError, match="input dc_alert: cannot claim GPIO 17: "
                                                "GPIO busy"):
            GpioInput("dc_alert", wiring, MockFactory(pin_class=_BusyPin), catch_pulses=catch)
    with pytest.raises(HalSetupError, match="contactor grid: cannot claim coil GPIO 5: "
                                            "GPIO busy"):
        GpioContactor("grid", ContactorWiring(coil_pin=5), MockFactory(pin_class=_BusyPin))
    with pytest.raises(HalSetupError, match="watchdog: cannot claim kick GPIO 22: GPIO busy"):
        GpioWatchdogKick(WatchdogWiring(kick_pin=22), MockFactory(pin_class=_BusyPin))


def test_a_closed_device_refuses_to_read_or_toggle_as_gpiozero_does() -> None:
    """The inputs, the aux contacts and the kick use the pin itself each tick (not gpiozero's
    device value); once closed they refuse as gpiozero's closed devices do."""
    factory = plant_pin_factory()
    device = GpioInput("door", InputWiring(pin=PIN), factory)
    contactor = GpioContactor("grid", ContactorWiring(coil_pin=5, aux_pin=6), factory)
    kick = GpioWatchdogKick(WatchdogWiring(kick_pin=22), factory)
    assert device.read() is False and contactor.feedback_closed is False
    kick.toggle()
    assert factory.pin(22).state  # the kick drove its pin high
    for close in (device.close, contactor.close, kick.close):
        close()
    with pytest.raises(DeviceClosed):
        device.read()
    with pytest.raises(DeviceClosed):
        _ = contactor.feedback_closed
    with pytest.raises(DeviceClosed):
        kick.toggle()
