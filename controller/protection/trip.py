"""A monitor's verdict: trip with a catalogued fault code and the measured detail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trip:
    """``measured`` and ``setting`` are the numbers compared, when the monitor has them."""

    code: str
    detail: str
    measured: float | None = None
    setting: float | None = None
