"""The grid verdict: what the grid window concludes each tick (a value, not a latched fault)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GridVerdict:
    """``ok``: grid-parallel operation allowed. ``in_window``: the grid is inside the
    enter-service window now (a backup island may start its return). ``island``: the
    backstop suspects an unintentional island. ``power_fraction``: the enter-service ramp."""

    ok: bool
    reason: str
    in_window: bool = False
    island: bool = False
    power_fraction: float = 1.0
    tripped: str | None = None  # the element that tripped this tick ("OV1"), if any
    # Starting to export is entering service (IEEE 1547-2018 4.10): the share of the v2g export
    # allowed now (0 while the grid has not been in the enter-service window for the delay
    # since its last excursion while the charger was not discharging; then the ramp).
    export_fraction: float = 1.0
    export_reason: str = ""


NOT_EVALUATED = GridVerdict(False, "not evaluated")
