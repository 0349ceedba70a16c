"""The external hardware watchdog's input: an output the control loop toggles once per healthy
tick. The watchdog (a retriggerable monostable holding the K_WD relay, ``hw/README.md``) drops the
contactor coil supply when the edges stop, whatever the Pi does."""

from __future__ import annotations

from typing import Protocol


class WatchdogKick(Protocol):
    def toggle(self) -> None:
        """One edge: called only at the end of a healthy tick."""
        ...

    def close(self) -> None:
        """Release the pin (it then stops toggling: the watchdog drops the supply)."""
        ...
