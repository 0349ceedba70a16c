"""gpiozero mock pins whose level the simulated plant holds, as a real switch or aux contact
holds a wire.

gpiozero's ``MockPin`` drives itself to the pull level whenever a device sets a pull resistor,
so an input claimed with ``pull = "down"`` would read low until the plant's next step even with
its switch closed. On a real board the closed switch beats the weak pull at once:
:meth:`PlantPin.hold` marks a level as driven by the plant, and setting a pull afterwards
leaves that level alone.
"""

from __future__ import annotations

from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin


class PlantPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    """A mock pin; :meth:`hold` is the plant driving it (a pull then only matters if it lets
    go, which the plant never does)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: bool | None = None

    def hold(self, high: bool) -> None:
        """Drive the pin to ``high`` as the plant's switch or contact does (no edge if equal)."""
        self._held = high
        if bool(self.state) != high:
            self.drive_high() if high else self.drive_low()

    def _set_pull(self, value: str) -> None:
        super()._set_pull(value)  # validates the pull and drives the pin to it
        if self._held is not None:
            self.hold(self._held)


MOCK_BOARD_REVISION = "a02082"  # gpiozero's default mock board: BCM 2..27 as on every 40-pin Pi


def plant_pin_factory() -> MockFactory:
    """A ``MockFactory`` of :class:`PlantPin` on a named board, both given explicitly (never
    from the environment's ``GPIOZERO_MOCK_PIN_CLASS`` or ``GPIOZERO_MOCK_REVISION``)."""
    return MockFactory(revision=MOCK_BOARD_REVISION, pin_class=PlantPin)
