"""The one shape of a protection monitor: what it sees and what it says.

Every monitor has one method, ``update(seen: ProtectionInput) -> Finding``: it observes this
tick (the snapshot, the grid verdict, what the mode logic and the dispatcher had asked for up
to the last tick) and answers with trips, warnings and a derating. It never controls anything
and never calls another monitor. ``controller/protection/table.py`` binds each monitor to its
config sections and the fault codes it may raise; ``controller/protection/protection.py``
runs them in the table's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from controller.measurement.grid_estimator import GridEstimate
from controller.protection.grid.verdict import NOT_EVALUATED, GridVerdict
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ProtectionInput:
    """One tick as protection sees it. ``energised``: the mode machine is outside its safe
    states; ``energy_wanted``: a mode other than idle is requested; ``commanded_w``: the
    previous tick's power command; ``following`` / ``told_off``: the inverter was told
    grid-following / OFF; ``export_wanted``: v2g is requested or export is permitted;
    ``grid``: this tick's grid verdict (the grid window runs before the monitors)."""

    snap: Snapshot
    estimate: GridEstimate | None = None
    grid: GridVerdict = NOT_EVALUATED
    energised: bool = False
    energy_wanted: bool = False
    commanded_w: float = 0.0
    following: bool = False
    told_off: bool = False
    export_wanted: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """What one monitor says this tick. ``trips`` latch faults; ``warnings`` are logged, never
    latched; ``power_fraction`` is the share of the rated power it allows (derating);
    ``temperatures_c`` are the temperatures it read this tick (the NTC monitor), which the
    retry evidence needs."""

    trips: tuple[Trip, ...] = ()
    warnings: tuple[Trip, ...] = ()
    power_fraction: float = 1.0
    temperatures_c: Mapping[str, float] = field(default_factory=dict)


QUIET = Finding()  # nothing to say: shared, so a quiet tick allocates nothing


def finding(trip: Trip | None) -> Finding:
    """The finding of one trip, or ``QUIET`` for ``None``."""
    return QUIET if trip is None else Finding((trip,))


class Monitor(Protocol):
    """Observe and trip; never control."""

    def update(self, seen: ProtectionInput) -> Finding: ...
