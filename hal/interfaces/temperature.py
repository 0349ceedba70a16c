"""An NTC temperature sensor read as the ratio of its divider (0 = shorted, 1 = open).

The controller converts the ratio to degrees with the NTC's beta equation
(``controller/protection/interlocks/ntc.py``) so that an open or shorted sensor is recognised as
a fault instead of being read as a very cold or very hot part.
"""

from __future__ import annotations

from typing import Protocol


class TemperatureSensor(Protocol):
    """``read`` returns the divider output over its reference, 0..1 (NTC to ground, pull-up to
    the reference); it raises a ``HalIOError`` when the converter does not answer."""

    name: str

    def read(self) -> float:
        """The divider ratio now."""
        ...
