"""What has been asked of the charger: the known modes, and the resolved request of one tick.

Requesters hold prioritised, optionally leased claims (``controller/dispatch/arbitration.py``);
the supervisor resolves them every tick into one :class:`Request` (the mode, the power limit and
the source that won the mode), which the mode machine and the dispatcher act on. ``MODES`` is
the one list of modes: the arbiter, the scenario format and the CLI read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.vocabulary import RequestMode

MODES: tuple[str, ...] = tuple(mode.value for mode in RequestMode)


@dataclass(frozen=True, slots=True)
class Request:
    mode: str = "idle"
    power_w: float | None = None  # None: as much as the limits allow
    source: str = "config"  # resolved: who won the mode; claimed: who asks ("config" = user)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}: must be one of {', '.join(MODES)}")
        if self.power_w is not None and self.power_w < 0:
            raise ValueError(f"power {self.power_w} W: must be >= 0 (the mode gives direction)")
