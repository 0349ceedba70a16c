"""What the mode machine wants the outputs to be. Enter callbacks change it; the one trip path
makes it safe (``controller/supervisor/trip_path.py``).

The supervisor's output stage writes the plan to the contactors and the inverter every tick, so a
plan change made by a callback reaches the hardware in the same tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from hal.protocols.inverter_messages import InverterMode


class PlannedOutputs(NamedTuple):
    """The plan as the modes stage hands it on to dispatch and the outputs (immutable: the
    plan never changes a contactor map it has handed on, it replaces it)."""

    contactors: Mapping[str, bool]
    inverter_mode: InverterMode
    sync_to_grid: bool


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
        contactors = dict(self.contactors)  # a new map: one handed on stays as it was
        for name, value in closed.items():
            if name not in contactors:
                raise KeyError(f"unknown contactor {name!r}")
            contactors[name] = value
        self.contactors = contactors

    def frozen(self) -> PlannedOutputs:
        """This plan as a value that no later change touches."""
        return PlannedOutputs(self.contactors, self.inverter_mode, self.sync_to_grid)
