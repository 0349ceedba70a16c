"""The household's wishes the gateway keeps (set from Home Assistant, read by the integrations).

These are the gateway's, not the controller's: the controller's own limits (its reserve SoC,
``backup.enabled``, every interlock) stay in force whatever is set here. ``manual_mode`` is the
mode Home Assistant asked for (None: "auto", no manual claim, the planner's or the owner's wish
applies). The planner reads ``target_soc_pct``, ``departure`` and ``backup_allowed``.
A manual mode or limit suspends the planner's claims (``gateway/planner/manual.py``); the
planner writes ``planner_status`` and ``plan`` (its latest plan's summary) for MQTT and the
status page to show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Preferences:
    manual_mode: str | None = None  # None: auto
    power_limit_w: float | None = None  # None: as much as the controller allows
    reserve_soc_pct: float = 40.0  # the gateway stops a manual discharge at this SoC
    target_soc_pct: float = 100.0  # the gateway stops a manual charge at this SoC
    departure: str = ""  # "HH:MM" (local time) or "" for none
    backup_allowed: bool = True  # the planner keeps the backup reserve
    v2g_allowed: bool = False  # a v2g request is refused while False
    planner_status: str = "off"  # written by the planner: "planning", "suspended: ...", ...
    plan: dict[str, Any] = field(default_factory=dict)  # the latest plan's summary (planner)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
