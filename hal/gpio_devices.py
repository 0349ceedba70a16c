"""Contactors and digital inputs on gpiozero devices, for every pin factory.

The same classes run on a Pi (lgpio factory) and in the simulator (``MockFactory`` pins wired to
simulated contactors): the pin factory is injected, never taken from a global. Outputs are
constructed de-energised (``initial_value=False``) and dropped again on close; the hardware
pull-downs on the driver board hold them off when the process is gone.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from gpiozero import DigitalInputDevice, DigitalOutputDevice
from gpiozero.exc import DeviceClosed

from hal.errors import HalSetupError
from hal.settings import ContactorWiring, InputWiring

_PULL = {"up": True, "down": False, "none": None}
# What claiming a pin raises: gpiozero's errors (GPIOZeroError), and on a Pi lgpio's own
# (``lgpio.error``, e.g. "GPIO busy" while another process holds the line), which gpiozero
# passes through unchanged: any of them is a setup error naming the pin.
CLAIM_ERRORS: Final = (Exception,)


class _ReleasedPin:
    """Stands in for a device's pin once it is closed: a read or write raises, as gpiozero's
    own ``value`` does on a closed device."""

    @property
    def state(self) -> bool:
        raise DeviceClosed("the GPIO device is closed")

    @state.setter
    def state(self, _value: bool) -> None:
        raise DeviceClosed("the GPIO device is closed")


RELEASED_PIN: Final = _ReleasedPin()


class GpioContactor:
    """A contactor coil on one output pin, its auxiliary contact on an optional input pin."""

    def __init__(self, name: str, wiring: ContactorWiring, pin_factory: Any) -> None:
        if wiring.coil_pin is None:
            raise HalSetupError(f"contactor {name}: no coil pin configured")
        self.name = name
        self.normally_closed = wiring.normally_closed
        self._aux_closed_high = wiring.aux_closed_high
        self._commanded_closed = wiring.normally_closed
        try:
            self._coil = DigitalOutputDevice(
                wiring.coil_pin, active_high=True, initial_value=False, pin_factory=pin_factory
            )
        except CLAIM_ERRORS as err:
            raise HalSetupError(
                f"contactor {name}: cannot claim coil GPIO {wiring.coil_pin}: {err}"
            ) from err
        self._aux: DigitalInputDevice | None = None
        self._aux_pin: Any = RELEASED_PIN  # read each tick: the level straight from the pin
        if wiring.aux_pin is not None:
            try:
                self._aux = DigitalInputDevice(
                    wiring.aux_pin, pull_up=None, active_state=True, pin_factory=pin_factory
                )
            except CLAIM_ERRORS as err:
                self._coil.close()
                raise HalSetupError(
                    f"contactor {name}: cannot claim aux GPIO {wiring.aux_pin}: {err}"
                ) from err
            self._aux_pin = self._aux.pin

    def set_closed(self, closed: bool) -> None:
        self._commanded_closed = closed
        energise = closed != self.normally_closed
        if energise:
            self._coil.on()
        else:
            self._coil.off()

    def de_energise(self) -> None:
        self._commanded_closed = self.normally_closed
        with contextlib.suppress(Exception):
            self._coil.off()

    @property
    def commanded_closed(self) -> bool:
        return self._commanded_closed

    @property
    def coil_energised(self) -> bool:
        return bool(self._coil.value)

    @property
    def feedback_closed(self) -> bool | None:
        if self._aux is None:
            return None
        high = bool(self._aux_pin.state)  # gpiozero's value (active high), four calls fewer
        return high == self._aux_closed_high

    def close(self) -> None:
        self.de_energise()
        self._aux_pin = RELEASED_PIN
        for device in (self._coil, self._aux):
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()


class GpioInput:
    """A digital input with its polarity applied: ``read()`` is the logical state.

    With ``catch_pulses``, ``read()`` is also true when the input was asserted at any moment
    since the previous read, even if it is released again now: gpiozero's edge callback
    (on a Pi, lgpio's edge thread, which queues every edge the kernel saw) counts each
    assertion. That is for a chip's latched alert line that an I2C read releases
    (``dc_alert``): on a Pi the reads run in a thread between the ticks
    (``hal/i2c_reader.py``) and may release the latch before the tick reads the pin.
    """

    def __init__(self, name: str, wiring: InputWiring, pin_factory: Any,
                 catch_pulses: bool = False) -> None:
        if wiring.pin is None:
            raise HalSetupError(f"input {name}: no pin configured")
        self.name = name
        pull = _PULL[wiring.pull]
        try:
            if pull is None:
                self._device = DigitalInputDevice(
                    wiring.pin, pull_up=None, active_state=wiring.active_high,
                    pin_factory=pin_factory,
                )
            else:
                self._device = DigitalInputDevice(wiring.pin, pull_up=pull,
                                                  pin_factory=pin_factory)
        except CLAIM_ERRORS as err:
            raise HalSetupError(f"input {name}: cannot claim GPIO {wiring.pin}: {err}") from err
        # With a pull, gpiozero's device is active low for "up" and high for "down", so its
        # activation is the input's release when that differs from the configured level.
        invert = pull is not None and (pull == wiring.active_high)
        # The logical state is the pin's level compared with the active level, whatever the
        # pull (what gpiozero's value says, with that inversion applied); read from the pin,
        # without gpiozero's four calls per read (every input is read every tick).
        self._pin: Any = self._device.pin
        self._active_high = wiring.active_high
        self.catch_pulses = catch_pulses
        # Assertions counted by the edge callback (its thread is the only writer) and the
        # count the last read saw (the reader is the only writer): no lock, no lost edge.
        self._asserted = 0
        self._seen = 0
        if catch_pulses:
            # gpiozero already watches every input's edges (for its own events): this only
            # adds a callback, nothing new to claim.
            if invert:
                self._device.when_deactivated = self._on_assert
            else:
                self._device.when_activated = self._on_assert

    def _on_assert(self) -> None:
        self._asserted += 1

    def read(self) -> bool:
        level = bool(self._pin.state) == self._active_high
        if not self.catch_pulses:
            return level
        count = self._asserted
        pulsed = count != self._seen
        self._seen = count
        return level or pulsed

    def close(self) -> None:
        self._pin = RELEASED_PIN
        with contextlib.suppress(Exception):
            self._device.close()
