"""One virtual clock for the simulated controller and the gateway's services.

With ``SimController(..., lockstep=True)`` (tests/gateway_fixtures.py) the controller's loop
runs on the plain virtual clock and pauses at the time the test granted. :class:`Lockstep` is the
other half: the gateway's services sleep on it (``sleep``, injected where a service takes its
``sleep``) in controller seconds, and the test moves time with ``run_to`` / ``run_until``:

1. every service woken so far runs until it sleeps again (its requests are answered while the
   controller is paused, so at one known controller time; a planner's solve takes what wall
   time it takes and no controller time at all);
2. the controller ticks up to the earliest wake-up (or the target) and pauses;
3. the status the services read (``api.status``) is fetched at that time, after the events
   the controller sent before it (one connection, in order), then the due services wake.

So what the services see and do depends only on the controller's clock, never on the load of
the machine. ``api`` is the client as :class:`gateway.api.ControllerApi` with that status.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from gateway_fixtures import TIME_EPS_S, Probe, SimController

from gateway.api import ClaimReply, ControllerEvent, ControllerStatus, Mode, Requester
from gateway.controller_client import ControllerClient, status_from

RENEW_FRACTION = 1.0 / 3.0  # as the client: renew a third of the lease after the claim
EVENT_PASSES = 3  # loop passes after a status reply, for the event watchers to take theirs


class SteppedApi:
    """The client as the services see it, with the status fetched at each step (``refresh``)
    instead of the client's own wall-clock poll, and held claims renewed on the controller's
    clock at each step too (the client's own renewals, wall-clock timed, change nothing more)."""

    def __init__(self, client: ControllerClient) -> None:
        self.client = client
        self._status: ControllerStatus | None = None
        self._held: dict[Requester, tuple[Mode | None, float | None, float, float]] = {}

    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def status(self) -> ControllerStatus | None:
        return self._status

    async def refresh(self) -> ControllerStatus:
        reply = await self.client.request("status")
        if not reply.get("ok") or not isinstance(reply.get("data"), dict):
            raise AssertionError(f"status refused: {reply}")
        self._status = status_from(reply["data"])
        for requester, (mode, power, lease, since) in list(self._held.items()):
            if self._status.t - since >= lease * RENEW_FRACTION:
                await self.claim(requester, mode=mode, power_limit_w=power, lease_s=lease)
        return self._status

    async def claim(self, requester: Requester, *, mode: Mode | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        reply = await self.client.claim(requester, mode=mode, power_limit_w=power_limit_w,
                                        lease_s=lease_s)
        if reply.ok:
            t = self._status.t if self._status is not None else 0.0
            self._held[requester] = (mode, power_limit_w, lease_s, t)
        else:
            self._held.pop(requester, None)
        return reply

    async def release(self, requester: Requester) -> ClaimReply:
        self._held.pop(requester, None)
        return await self.client.release(requester)

    def events(self) -> AsyncIterator[ControllerEvent]:
        return self.client.events()


class Lockstep:
    """The gateway side of the lockstep (see the module's docstring)."""

    def __init__(self, sim: SimController, client: ControllerClient) -> None:
        self.sim = sim
        self.api = SteppedApi(client)
        self.now = 0.0  # the controller's clock where it is paused
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._busy = 0  # services woken that have not slept again
        self._services: list[asyncio.Task[Any]] = []
        self._changed = asyncio.Event()  # a service slept or ended

    async def start(self) -> None:
        """The first status (the controller paused at its first tick)."""
        self.now = await self.sim.advance_to(0.0)
        await self._refresh()

    def spawn(self, service: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a service (it sleeps only on :meth:`sleep`); it is busy until it first sleeps."""
        self._busy += 1
        task = asyncio.get_running_loop().create_task(service)
        task.add_done_callback(lambda _t: self._changed.set())
        self._services.append(task)
        return task

    async def stop(self) -> None:
        for task in self._services:
            task.cancel()
        await asyncio.gather(*self._services, return_exceptions=True)

    async def sleep(self, seconds: float) -> None:
        """A service's sleep of ``seconds`` of the controller's clock."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), future))
        self._busy -= 1
        self._changed.set()
        await future

    async def run_to(self, t: float) -> None:
        """Move the controller and the services together to the controller time ``t``."""
        await self._settle()
        while self.now < t - TIME_EPS_S:
            due = min(t, self._sleepers[0][0]) if self._sleepers else t
            if due > self.now + TIME_EPS_S:
                self.now = await self.sim.advance_to(due)
                await self._refresh()
            while self._sleepers and self._sleepers[0][0] <= self.now + TIME_EPS_S:
                _, _, future = heapq.heappop(self._sleepers)
                self._busy += 1
                future.set_result(None)
            await self._settle()

    async def run_until(self, probe: Probe[object], limit_s: float, step_s: float) -> float:
        """Run in steps of ``step_s`` until ``probe(sup, world)`` holds; the controller seconds
        it took (AssertionError when ``limit_s`` passes first)."""
        start = self.now
        while not await self.sim.call(probe):
            if self.now - start > limit_s:
                raise AssertionError(f"not reached within {limit_s} s of controller time "
                                     f"(t={self.now:.2f} s)")
            await self.run_to(self.now + step_s)
        return self.now - start

    async def _refresh(self) -> None:
        await self.api.refresh()
        for _ in range(EVENT_PASSES):
            await asyncio.sleep(0)

    async def _settle(self) -> None:
        """Wait until every woken service sleeps again (a failed one: its error)."""
        while self._busy > 0:
            for task in self._services:
                if task.done():
                    task.result()  # its exception, or why it returned
                    raise AssertionError(f"service {task.get_name()} ended")
            await self._changed.wait()
            self._changed.clear()
