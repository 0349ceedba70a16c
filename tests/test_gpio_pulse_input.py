"""A digital input that catches pulses (``hal/gpio_devices.py``, ``catch_pulses``): an assertion
between two reads counts once even when released before the second read, for every wiring of
polarity and pull. Without it a chip's latched alert line, released by an I2C read in the Pi's
reader thread, could be missed (``tests/test_ads1115_comparator.py``)."""

from __future__ import annotations

import pytest

from hal.gpio_devices import GpioInput
from hal.settings import InputWiring
from hal.sim.plant_pins import plant_pin_factory
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
