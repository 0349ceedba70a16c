"""gpiozero mock pins whose level the simulated plant holds, as a real switch or aux contact
holds a wire.

gpiozero's ``MockPin`` drives itself to the pull level whenever a device sets a pull resistor,
so an input claimed with ``pull = "down"`` would read low until the plant's next step even with
its switch closed. On a real board the closed switch beats the weak pull at once:
:meth:`PlantPin.hold` marks a level as driven by the plant, and setting a pull afterwards
leaves that level alone.
"""

from __future__ import annotations

from collections import deque
from operator import attrgetter
from typing import Any, Final

from gpiozero.pins.mock import MockFactory, MockPin, PinState

HISTORY_LIMIT: Final = 256  # state changes a pin remembers (gpiozero keeps every one, forever)


class PlantPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    """A mock pin; :meth:`hold` is the plant driving it (a pull then only matters if it lets
    go, which the plant never does).

    Its ``states`` history keeps the last :data:`HISTORY_LIMIT` changes (a bounded deque, not
    gpiozero's ever-growing list): the watchdog pin toggles every tick, and a simulated charger
    runs for days. Tests that read a history read a short one (``assert_states`` still works
    while fewer than ``HISTORY_LIMIT`` changes happened since ``clear_states``).
    """

    # MockPin's level read without gpiozero's two Python calls (a lambda, then _get_state,
    # which returns _state): every input device reads it each tick. Writes as gpiozero's.
    state = property(attrgetter("_state"), lambda self, value: self._set_state(value),
                     doc="The pin's level (0 or 1), as MockPin's ``state``.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: bool | None = None

    def clear_states(self) -> None:
        super().clear_states()  # also restarts gpiozero's change timer
        self.states = deque([PinState(0.0, self._state)], maxlen=HISTORY_LIMIT)

    def hold(self, high: bool) -> None:
        """Drive the pin to ``high`` as the plant's switch or contact does (no edge if equal)."""
        self._held = high
        if bool(self._state) != high:  # MockPin's own level: the property costs two calls
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
