"""All monitors in one pass over the snapshot: trips, warnings, the derating and the grid verdict.

The grid window (``controller/protection/grid/grid_window.py``) runs first: its verdict is part
of what every monitor sees. Then each monitor of ``controller/protection/table.py`` runs in the
table's order, with one signature (``update(ProtectionInput) -> Finding``,
``controller/protection/monitor.py``); this file only collects what they say. Monitors observe;
they never control. The supervisor turns trips into faults
(``controller/supervisor/fault_manager.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from controller.config.model import Config
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.grid.grid_window import GridWindow
from controller.protection.grid.verdict import NOT_EVALUATED, GridVerdict
from controller.protection.monitor import QUIET, Monitor, ProtectionInput
from controller.protection.table import MONITORS, MonitorBinding, Wiring
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot


class UndeclaredCodeError(RuntimeError):
    """A monitor returned a code its row in the monitor table does not declare: a programming
    error. It escapes ``evaluate`` on purpose, so the tick fails and the loop goes to the safe
    state with INTERNAL_ERROR, naming the monitor and the code."""


@dataclass(frozen=True, slots=True)
class ProtectionResult:
    trips: list[Trip] = field(default_factory=list)
    grid: GridVerdict = NOT_EVALUATED
    warnings: list[Trip] = field(default_factory=list)  # WARNING severity: logged, not latched
    power_fraction: float = 1.0  # thermal derating: the share of the rated power allowed
    temperatures_c: dict[str, float] = field(default_factory=dict)


class Protection:
    """Observe and trip. It has a veto over the mode logic and never asks it for anything."""

    def __init__(self, config: Config, started_at: float,
                 monitors: Sequence[MonitorBinding] = MONITORS) -> None:
        self.grid_window = GridWindow(config)
        wiring = Wiring(config, started_at, self.grid_window)
        self._monitors: tuple[tuple[MonitorBinding, Monitor], ...] = tuple(
            (binding, binding.build(wiring)) for binding in monitors)

    def set_permit_service(self, permit: bool) -> None:
        """IEEE 1547 permit service (input or command): False ceases and keeps out of service."""
        self.grid_window.set_permit_service(permit)

    def evaluate(self, snap: Snapshot, estimate: GridEstimate | None,
                 energised: bool, energy_wanted: bool = False, commanded_w: float = 0.0,
                 following: bool = False, export_wanted: bool = False,
                 told_off: bool = False) -> ProtectionResult:
        """``energised``: the mode machine is outside its safe states; ``commanded_w``: the
        previous tick's power command; ``following``: the inverter was told grid-following;
        ``told_off``: it was told OFF (``ProtectionInput`` says what each monitor sees)."""
        grid = self.grid_window.update(snap.t, estimate, snap, export_wanted)
        seen = ProtectionInput(snap, estimate, grid, energised, energy_wanted, commanded_w,
                               following, told_off, export_wanted)
        trips: list[Trip] = []
        warnings: list[Trip] = []
        fraction = 1.0
        temperatures: dict[str, float] = {}
        for binding, monitor in self._monitors:
            found = monitor.update(seen)
            if found is QUIET:
                continue
            for said in (*found.trips, *found.warnings):
                if said.code not in binding.codes:
                    raise UndeclaredCodeError(
                        f"monitor {binding.name!r} returned {said.code} ({said.detail}), which "
                        "controller/protection/table.py does not declare for it")
            trips += found.trips
            warnings += found.warnings
            fraction = min(fraction, found.power_fraction)
            temperatures.update(found.temperatures_c)
        return ProtectionResult(trips, grid, warnings, fraction, temperatures)
