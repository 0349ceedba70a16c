"""The gateway process: one controller client, the integrations running on it.

An integration is a :class:`Service`: ``async run(api)`` that runs until cancelled. The host
starts the controller client and every service; a service that fails is logged and started
again after a back-off, so one broken integration never takes the others down. Stopping the
gateway cancels the services and closes the client without releasing any claim: the leases run
out by themselves (a restart within a lease therefore changes nothing on the charger).
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
               stop: asyncio.Event) -> None:
    """Run every service on ``api`` until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(supervise(s, api), name=s.name) for s in services]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
