"""What really happened in the plant, recorded by the plant itself.

Independent of what the controller believed: the scenario report compares the two. Each record is
``(t, kind, details)``; kinds are documented in ``docs/scenarios.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TruthEvent:
    t: float
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class EnergyTotals:
    """Energy flows in kWh, integrated by the plant."""

    grid_import_kwh: float = 0.0
    grid_export_kwh: float = 0.0
    ev_charged_kwh: float = 0.0
    ev_discharged_kwh: float = 0.0
    home_from_ev_kwh: float = 0.0
    pv_kwh: float = 0.0


class GroundTruth:
    """Edge-triggered recorder: ``track`` logs an event only when a tracked value changes."""

    def __init__(self) -> None:
        self.events: list[TruthEvent] = []
        self.energy = EnergyTotals()
        self._last: dict[str, object] = {}

    def record(self, t: float, kind: str, **details: Any) -> None:
        self.events.append(TruthEvent(t, kind, details))

    def track(self, t: float, key: str, value: object, kind: str, **details: Any) -> None:
        """Record ``kind`` when ``value`` differs from the last value tracked under ``key``."""
        if self.changed(key, value):
            self.record(t, kind, **details)

    def changed(self, key: str, value: object) -> bool:
        """Track ``value`` under ``key``: True when it differs from the last value tracked
        there (False the first time). ``track`` without building the record's details: a
        caller whose details cost something records them only on True."""
        last = self._last
        if key in last and last[key] == value:
            return False
        first = key not in last
        last[key] = value
        return not first

    def of_kind(self, kind: str) -> list[TruthEvent]:
        return [e for e in self.events if e.kind == kind]
