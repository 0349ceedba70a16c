"""The ``pi`` backend's pin factory: lgpio by name, constructed explicitly, nothing else.

gpiozero's private default (``Device._default_pin_factory``) falls back through lgpio, rpigpio,
pigpio and native pins and honours ``GPIOZERO_PIN_FACTORY``; the backend must do neither.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hal.assembly import assemble
from hal.errors import BackendUnavailableError, HalSetupError
from hal.gpio_devices import GpioContactor
from hal.pi.backend import open_io
from hal.pin_factories import open_pin_factory
from hal.registry import open_backend
from hal.settings import HalSettings

PI_NO_I2C = HalSettings(backend="pi")
MISSING_BUS = 29


@pytest.mark.parametrize("value", ["mock", "MOCK", "native", "pigpio"])
def test_gpiozero_pin_factory_variable_is_refused_under_the_pi_backend(
        monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", value)
    with pytest.raises(HalSetupError, match=f"GPIOZERO_PIN_FACTORY={value} is set") as caught:
        open_backend(PI_NO_I2C)
    assert "unset GPIOZERO_PIN_FACTORY" in str(caught.value)
    assert Device.pin_factory is None or not isinstance(Device.pin_factory, MockFactory)


def test_the_variable_naming_lgpio_itself_is_no_conflict(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "lgpio")
    with pytest.raises(HalSetupError, match="not a Raspberry Pi"):
        open_pin_factory("lgpio", model_file=tmp_path / "no-model")


def test_the_private_gpiozero_default_is_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def default() -> MockFactory:
        calls.append("called")
        return MockFactory()

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "_default_pin_factory", staticmethod(default))
    monkeypatch.setattr(Device, "pin_factory", None)
    with pytest.raises(HalSetupError):
        open_backend(PI_NO_I2C)
    assert calls == []


def test_only_lgpio_is_known_by_name() -> None:
    with pytest.raises(BackendUnavailableError, match=r"pin factory .mock. \(known: lgpio\)"):
        open_pin_factory("mock")


def test_on_a_pi_without_lgpio_the_message_says_what_to_install(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_text("Raspberry Pi 5 Model B Rev 1.0\x00")
    try:
        import lgpio  # noqa: F401
    except ImportError:
        with pytest.raises(HalSetupError, match="install the 'pi' extra"):
            open_pin_factory("lgpio", environ={}, model_file=model)
    else:  # pragma: no cover - lgpio installed (a Pi): it may open or fail on gpiochip
        pytest.skip("lgpio is installed here")


def test_assembly_claims_gpio_then_names_the_missing_i2c_bus_and_releases_every_pin() -> None:
    """The Pi's primitives with gpiozero's mock pins put in by hand (never by the variable):
    GPIO is claimed, the missing bus fails with its name, every pin is released again."""
    settings = dataclasses.replace(
        PI_NO_I2C, i2c=dataclasses.replace(PI_NO_I2C.i2c, bus=MISSING_BUS))
    factory = MockFactory()
    io = dataclasses.replace(open_io(settings, environ={}), pin_factory=lambda: factory)
    with pytest.raises(HalSetupError, match=f"cannot open I2C bus /dev/i2c-{MISSING_BUS}"):
        assemble(settings, io)
    wiring = settings.gpio.contactors.dc
    again = GpioContactor("dc", wiring, factory)  # the pin was released: it can be claimed
    again.close()
    factory.reset()
