"""The station's time: the wall clock for OCPP timestamps and schedules, and its sleeps.

Injected so tests run the station on virtual time (a ten-minute CSMS outage in a moment) while
its websocket traffic is real. :class:`VirtualClock` only moves when told to.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import Protocol


class StationClock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """Time that advances only through :meth:`advance`; sleepers wake in order of their end."""

    def __init__(self, start: float) -> None:
        self.t = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + max(seconds, 0.0), next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds`` and wake every sleeper whose end has come."""
        self.t += seconds
        while self._sleepers and self._sleepers[0][0] <= self.t + 1e-9:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    @property
    def sleepers(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())


def stamp(epoch_s: float) -> str:
    """An OCPP dateTime (UTC, milliseconds, Z)."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
