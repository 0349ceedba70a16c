"""The gateway always stops: a service that swallows its cancellation (as asyncio.wait_for
did inside aiomqtt on Python 3.11, tests/test_gateway_mqtt_stop.py) is named in the log and
cancelled again (gateway/host.py). The wall-clock guard only keeps a hang from hanging the
suite; nothing is timed by it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from gateway_fixtures import run_async

from gateway.api import ControllerApi
from gateway.controller_client import ControllerClient
from gateway.host import host

GUARD_S = 20.0
RECANCEL_S = 0.05


class SwallowsOneCancel:
    """A service with the bug: its first cancellation is lost, the second one ends it."""

    name = "swallower"

    def __init__(self) -> None:
        self.cancels = 0

    async def run(self, api: ControllerApi) -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancels += 1
                if self.cancels > 1:
                    raise


class Plain:
    name = "plain"

    async def run(self, api: ControllerApi) -> None:
        await asyncio.Event().wait()


def test_a_service_that_swallows_its_cancellation_is_cancelled_again_and_named(
        caplog: pytest.LogCaptureFixture) -> None:
    stubborn = SwallowsOneCancel()

    async def scenario() -> None:
        api = ControllerClient("/nonexistent/v2x/control.sock")
        stop = asyncio.Event()
        gateway = asyncio.get_running_loop().create_task(
            host(api, [stubborn, Plain()], stop, recancel_s=RECANCEL_S))
        await asyncio.sleep(0)  # the services start
        stop.set()
        await asyncio.wait_for(gateway, GUARD_S)

    with caplog.at_level(logging.ERROR, logger="v2x.gateway"):
        run_async(scenario())
    assert stubborn.cancels == 2
    named = [r.getMessage() for r in caplog.records if "did not stop" in r.getMessage()]
    assert named == [f"service swallower did not stop {RECANCEL_S:g} s after it was "
                     "cancelled; cancelling it again"], named
