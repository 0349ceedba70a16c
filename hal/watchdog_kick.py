"""The watchdog kick output on a gpiozero pin (any pin factory: lgpio on a Pi, mock in the sim)."""

from __future__ import annotations

import contextlib
from typing import Any

from gpiozero import DigitalOutputDevice

from hal.errors import HalSetupError
from hal.gpio_devices import CLAIM_ERRORS, RELEASED_PIN
from hal.settings import WatchdogWiring


class GpioWatchdogKick:
    """Toggles one output; constructed low (no edges: the watchdog is not held yet)."""

    def __init__(self, wiring: WatchdogWiring, pin_factory: Any) -> None:
        try:
            self._out = DigitalOutputDevice(wiring.kick_pin, active_high=True,
                                            initial_value=False, pin_factory=pin_factory)
        except CLAIM_ERRORS as err:
            raise HalSetupError(
                f"watchdog: cannot claim kick GPIO {wiring.kick_pin}: {err}") from err
        self.edges = 0
        # Toggled every tick: written to the pin itself (what DigitalOutputDevice.toggle ends
        # in), without its dozen calls through the device's lock, value and blink thread.
        self._pin: Any = self._out.pin
        self._level = False

    def toggle(self) -> None:
        self._level = not self._level
        self._pin.state = self._level
        self.edges += 1

    def close(self) -> None:
        self._pin = RELEASED_PIN
        with contextlib.suppress(Exception):
            self._out.off()
            self._out.close()
