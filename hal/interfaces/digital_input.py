"""A digital input with a meaning (E-stop loop healthy, door closed, EV plugged in)."""

from __future__ import annotations

from typing import Protocol


class DigitalInput(Protocol):
    """``read`` returns the logical state (active = ``True``), polarity already applied."""

    name: str

    def read(self) -> bool:
        """The input's logical state now."""
        ...

    def close(self) -> None:
        """Release the pin."""
        ...
