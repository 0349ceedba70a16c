"""A monitor's verdict: trip with a catalogued fault code and the measured detail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trip:
    code: str
    detail: str
