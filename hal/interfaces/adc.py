"""Slow analogue quantities (DC link voltage, EV inlet voltage, DC current, temperatures)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Sample:
    """A converted value in engineering units and the clock time it was converted at."""

    value: float
    t: float


class AdcChannel(Protocol):
    """One named channel, scaled to engineering units (V, A, degC)."""

    name: str
    unit: str

    def latest(self) -> Sample | None:
        """The newest conversion, or ``None`` before the first one. Callers check its age."""
        ...


class AdcDevice(Protocol):
    """A multiplexed ADC: :meth:`poll` is called once per tick and never blocks."""

    def poll(self) -> None:
        """Collect a finished conversion, if any, and start the next channel's conversion."""
        ...

    @property
    def channels(self) -> Mapping[str, AdcChannel]:
        """The configured channels by name."""
        ...

    def close(self) -> None:
        """Release the bus."""
        ...
