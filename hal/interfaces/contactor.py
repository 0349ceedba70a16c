"""A contactor: a coil we drive and, usually, an auxiliary contact we read back."""

from __future__ import annotations

from typing import Protocol


class Contactor(Protocol):
    """A power contactor.

    ``set_closed`` speaks about the *main contacts*, not the coil: for a normally-closed contactor
    (the grid transfer contactor) closing the contacts means de-energising the coil. The safe state
    is always "coil de-energised" (:meth:`de_energise`), which the hardware also reaches when the
    Pi dies (pull-downs on the driver inputs).
    """

    name: str
    normally_closed: bool

    def set_closed(self, closed: bool) -> None:
        """Command the main contacts closed or open."""
        ...

    def de_energise(self) -> None:
        """Drop the coil: the fail-safe position. Must never raise."""
        ...

    @property
    def commanded_closed(self) -> bool:
        """What was last commanded for the main contacts."""
        ...

    @property
    def feedback_closed(self) -> bool | None:
        """The auxiliary contact: ``True`` closed, ``False`` open, ``None`` when none is wired."""
        ...

    def close(self) -> None:
        """Release the pins (de-energising first)."""
        ...
