"""What has been asked of the charger. The modes issue turns this into leased, prioritised claims
from several sources; the slice has one requester at a time and records who it was."""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("idle", "charge", "v2h")


@dataclass(frozen=True, slots=True)
class Request:
    mode: str = "idle"
    power_w: float | None = None  # None: as much as the limits allow
    source: str = "config"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}: must be one of {', '.join(MODES)}")
        if self.power_w is not None and self.power_w < 0:
            raise ValueError(f"power {self.power_w} W: must be >= 0 (the mode gives direction)")
