"""The clock: the only source of time for the control loop (injected, never global)."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """Monotonic time in seconds, plus a way to wait for a deadline.

    ``RealClock`` waits in wall time; the simulator's ``VirtualClock`` advances the simulated plant
    to the deadline instead, so the same loop runs an hour of plant time in seconds.
    """

    def now(self) -> float:
        """Monotonic seconds since an arbitrary origin."""
        ...

    def wall_time(self) -> float:
        """Seconds since the Unix epoch, for records only (never for control decisions)."""
        ...

    def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline`` (immediately when it already is)."""
        ...
