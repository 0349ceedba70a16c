"""Virtual time for the simulator: waiting for a deadline advances the plant to it.

The control loop calls ``clock.sleep_until(next_tick)`` exactly as it does on the Pi. The
:class:`VirtualClock` answers by stepping the simulated world up to that deadline, so plant time
runs as fast as the machine allows. :class:`PacedClock` adds real-time pacing (``v2xctl run``),
optionally ``speed`` times faster than real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Stepper = Callable[[float], None]

DEFAULT_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: fixed so runs are reproducible


class VirtualClock:
    """Plant time. ``advance_to`` runs the registered stepper, which moves the world forward."""

    def __init__(self, start_epoch: float = DEFAULT_EPOCH) -> None:
        self._now = 0.0
        self._epoch = start_epoch
        self._stepper: Stepper | None = None

    def attach(self, stepper: Stepper) -> None:
        """Register the world's ``step_to(t)``; called with each new deadline."""
        self._stepper = stepper

    def now(self) -> float:
        return self._now

    def wall_time(self) -> float:
        return self._epoch + self._now

    def set_time(self, t: float) -> None:
        """Used only by the stepper as it advances (time never goes backwards)."""
        if t < self._now:
            raise ValueError(f"virtual time cannot go backwards ({t} < {self._now})")
        self._now = t

    def advance_to(self, deadline: float) -> None:
        if deadline <= self._now:
            return
        if self._stepper is None:
            self._now = deadline
        else:
            self._stepper(deadline)
            self._now = max(self._now, deadline)

    def sleep_until(self, deadline: float) -> None:
        self.advance_to(deadline)


class PacedClock:
    """A virtual clock paced against wall time, ``speed`` plant seconds per wall second."""

    def __init__(self, virtual: VirtualClock, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._virtual = virtual
        self._speed = speed
        self._wall_origin = time.monotonic()
        self._plant_origin = virtual.now()

    def now(self) -> float:
        return self._virtual.now()

    def wall_time(self) -> float:
        return time.time()

    def sleep_until(self, deadline: float) -> None:
        self._virtual.advance_to(deadline)
        target = self._wall_origin + (deadline - self._plant_origin) / self._speed
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
