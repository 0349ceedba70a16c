"""The real clock: ``time.monotonic`` and wall-time sleeps. Used by the ``pi`` backend."""

from __future__ import annotations

import time


class RealClock:
    """Monotonic wall-time clock."""

    def now(self) -> float:
        return time.monotonic()

    def wall_time(self) -> float:
        return time.time()

    def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            time.sleep(delay)
