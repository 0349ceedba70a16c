"""The gateway process: one controller client, the integrations running on it.

An integration is a :class:`Service`: ``async run(api)`` that runs until cancelled. The host
starts the controller client and every service; a service that fails is logged and started
again after a back-off, so one broken integration never takes the others down. Stopping the
gateway cancels the services and closes the client without releasing any claim: the leases run
out by themselves (a restart within a lease therefore changes nothing on the charger). A service
still running ``STOP_RECANCEL_S`` after its cancellation lost it (asyncio.wait_for on Python
3.11 can, docs/gateway.md): it is named in the log and cancelled again, so the gateway stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from gateway.api import ControllerApi

log = logging.getLogger("v2x.gateway")

RESTART_MIN_S = 1.0
RESTART_MAX_S = 60.0
STOP_RECANCEL_S = 5.0  # a service still running this long after its cancellation: again


class Service(Protocol):
    """One integration hosted by the gateway (MQTT, the status page, the planner, OCPP)."""

    name: str

    async def run(self, api: ControllerApi) -> None: ...


async def supervise(service: Service, api: ControllerApi) -> None:
    """Run ``service`` for ever, restarting it after a failure (doubling back-off)."""
    wait = RESTART_MIN_S
    while True:
        try:
            await service.run(api)
            log.warning("service %s returned; starting it again", service.name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("service %s failed; starting it again in %.0f s", service.name, wait)
        await asyncio.sleep(wait)
        wait = min(2 * wait, RESTART_MAX_S)


async def host(api: ControllerApi, services: Sequence[Service],
               stop: asyncio.Event, recancel_s: float = STOP_RECANCEL_S) -> None:
    """Run every service on ``api`` until ``stop`` is set, then stop them all."""
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(supervise(s, api), name=s.name) for s in services]
    try:
        await stop.wait()
    finally:
        await _stop_all(tasks, recancel_s)


async def _stop_all(tasks: list[asyncio.Task[None]], recancel_s: float) -> None:
    """Cancel every task and wait until each has ended; one still running ``recancel_s`` after
    its cancellation is named in the log and cancelled again."""
    for task in tasks:
        task.cancel()
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=recancel_s)
        for task in sorted(pending, key=asyncio.Task.get_name):
            log.error("service %s did not stop %g s after it was cancelled; cancelling it "
                      "again", task.get_name(), recancel_s)
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)  # their outcomes, retrieved
