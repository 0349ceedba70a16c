"""What the mode machine wants the outputs to be. Enter callbacks change it; the one trip path
makes it safe (``controller/supervisor/trip_path.py``).

The supervisor's output stage writes the plan to the contactors and the inverter every tick, so a
plan change made by a callback reaches the hardware in the same tick.
"""

from __future__ import annotations

from collections.abc import Mapping

from hal.protocols.inverter_messages import InverterMode


class OutputPlan:
    """Desired main-contact states and inverter mode."""

    def __init__(self, normally_closed: Mapping[str, bool]) -> None:
        self._normally_closed = dict(normally_closed)
        self.contactors: dict[str, bool] = dict(self._normally_closed)
        self.inverter_mode = InverterMode.OFF
        self.sync_to_grid = False

    def safe(self) -> None:
        """Every coil de-energised, inverter off (the fail-safe position)."""
        self.contactors = dict(self._normally_closed)
        self.inverter_mode = InverterMode.OFF
        self.sync_to_grid = False

    def is_safe(self) -> bool:
        return (self.contactors == self._normally_closed
                and self.inverter_mode is InverterMode.OFF)

    def normally_closed(self, name: str) -> bool:
        return self._normally_closed[name]

    def set(self, **closed: bool) -> None:
        for name, value in closed.items():
            if name not in self.contactors:
                raise KeyError(f"unknown contactor {name!r}")
            self.contactors[name] = value
