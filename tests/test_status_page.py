"""The gateway's local status page, fetched over HTTP from a gateway on the simulator."""

from __future__ import annotations

import asyncio
import json

import gateway_fixtures
from gateway_fixtures import SimController, run_async

from controller.modes.states import State
from gateway.host import host
from gateway.preferences import Preferences
from gateway.settings import StatusPageSettings
from gateway.status_page import StatusPage

sim_controller = gateway_fixtures.sim_controller
GUARD_S = 30.0


async def _get(port: int, path: str, method: str = "GET") -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), GUARD_S)
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return head.split("\r\n")[0], body


def test_the_status_page_shows_state_power_faults_events_and_the_plot(
        sim_controller: SimController) -> None:
    sim = sim_controller

    async def scenario() -> None:
        stop = asyncio.Event()
        page = StatusPage(StatusPageSettings(port=0), Preferences(), sample_s=0.05)
        async with sim.client() as client:
            gateway = asyncio.get_running_loop().create_task(host(client, [page], stop))
            assert await client.wait_connected(GUARD_S)
            assert (await client.claim("schedule", mode="charge", lease_s=30.0)).ok
            await sim.wait_for(lambda sup, _w: sup.state is State.ENERGISED_CHARGE, 60.0)
            while (page.port is None or len(page.samples) < 3 or client.status is None
                   or client.status.state != "energised_charge"):
                await asyncio.sleep(0.05)
            status, html = await _get(page.port, "/")
            assert status == "HTTP/1.1 200 OK"
            assert "<b id='state'>energised_charge</b>" in html
            assert "<b id='faults'>none</b>" in html and "<polyline" in html
            assert "request: schedule claims charge for 30 s: accepted" in html  # the events
            status, body = await _get(page.port, "/status.json")
            data = json.loads(body)
            assert data["connected"] and data["status"]["mode_winner"] == "schedule"
            assert data["history"] and "grid_power_w" in data["history"][0]
            assert (await _get(page.port, "/nope"))[0] == "HTTP/1.1 404 Not Found"
            assert (await _get(page.port, "/", "POST"))[0] == "HTTP/1.1 405 Method Not Allowed"
            stop.set()
            await gateway

    run_async(scenario())
