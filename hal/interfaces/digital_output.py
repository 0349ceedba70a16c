"""A plain digital output (the CHAdeMO sequence signals and the connector lock)."""

from __future__ import annotations

from typing import Protocol


class DigitalOutput(Protocol):
    """``set(True)`` drives the signal active; ``active`` is what was last commanded.

    ``de_energise`` is the forced-safe path (``Hardware.de_energise_all``): an output whose
    safe state is "hold" (the connector lock: unlocking a live connector is the hazard) ignores
    it; every other output drops.
    """

    name: str

    def set(self, active: bool) -> None: ...

    @property
    def active(self) -> bool: ...

    def de_energise(self) -> None: ...

    def close(self) -> None: ...
