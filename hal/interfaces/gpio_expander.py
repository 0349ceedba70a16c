"""An I2C GPIO expander whose inputs are read once per control tick (the MCP23017)."""

from __future__ import annotations

from typing import Protocol


class GpioExpander(Protocol):
    """``poll`` reads every input pin in one transfer; its pins' ``DigitalInput.read`` return
    what that read found. Raises ``HalIOError`` when the chip does not answer."""

    def poll(self) -> None: ...

    def describe(self) -> str: ...

    def release(self) -> None:
        """Every pin back to an input (outputs off); never raises."""
