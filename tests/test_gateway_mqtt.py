"""End to end: the controller on the simulator + the gateway + a real mosquitto + a Home
Assistant-style client (discovery, a mode and a limit set, the plant follows; refusals on the
result topic; the broker restarted; the gateway killed -9 and its claim lapsing in its lease).

Durations are judged on the controller's clock (tests/gateway_fixtures.py); waiting for MQTT
messages is bounded by wall-clock guards only (a hung test fails, nothing is timed by them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import aiomqtt
import gateway_fixtures
import mqtt_broker
import pytest
from gateway_fixtures import SimController, run_async
from mqtt_broker import Broker

from controller.dispatch.arbitration import Source
from controller.modes.states import State
from gateway.config import parse_gateway_config
from gateway.host import host
from gateway.mqtt_service import MqttService
from gateway.preferences import Preferences
from gateway.settings import MqttSettings

sim_controller = gateway_fixtures.sim_controller
broker = mqtt_broker.broker
GUARD_S = 60.0  # wall-clock guard for a message that should arrive (a hang fails the test)
LEASE_S = 10.0
PREFIX = "homeassistant"


class HomeAssistant:
    """What Home Assistant does over MQTT: read discovery, send commands, read the state."""

    def __init__(self, port: int) -> None:
        self.client = aiomqtt.Client("127.0.0.1", port, identifier="ha-test")
        self.retained: dict[str, str] = {}
        self.results: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.state: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HomeAssistant:
        await self.client.__aenter__()
        await self.client.subscribe(f"{PREFIX}/#")
        await self.client.subscribe("v2x/#")
        self._task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.client.__aexit__(None, None, None)

    async def _read(self) -> None:
        async for message in self.client.messages:
            topic = message.topic.value
            payload = bytes(message.payload).decode() if isinstance(
                message.payload, bytes | bytearray) else str(message.payload)
            self.retained[topic] = payload
            if topic.endswith("/result"):
                await self.results.put(json.loads(payload))
            elif topic.endswith("/state"):
                self.state = json.loads(payload)

    async def until(self, check: Any) -> None:
        async def poll() -> None:
            while not check():
                await asyncio.sleep(0.05)
        await asyncio.wait_for(poll(), GUARD_S)

    def announced(self) -> bool:
        """Every expected entity's discovery config is here (a count is not enough: discovery
        announces more entities than EXPECTED_ENTITIES, so a count can be reached while one a
        test commands is still on its way)."""
        return {k.split("/", 1)[1].rsplit("/", 1)[0] for k in self.entities()} >= \
            EXPECTED_ENTITIES

    def entities(self) -> dict[str, dict[str, Any]]:
        return {t: json.loads(p) for t, p in self.retained.items()
                if t.startswith(PREFIX) and t.endswith("/config")}

    def command_topic(self, component: str, object_id: str) -> str:
        config = self.entities()[f"{PREFIX}/{component}/v2x_charger/{object_id}/config"]
        return str(config["command_topic"])

    async def send(self, component: str, object_id: str, payload: str) -> dict[str, Any]:
        await self.client.publish(self.command_topic(component, object_id), payload)
        return await asyncio.wait_for(self.results.get(), GUARD_S)


def _settings(broker: Broker, **extra: Any) -> MqttSettings:
    return MqttSettings(port=broker.port, lease_s=LEASE_S, min_publish_interval_s=0.2,
                        reconnect_max_s=0.5, **extra)


EXPECTED_ENTITIES = {
    "select/v2x_charger/mode_request", "number/v2x_charger/power_limit",
    "number/v2x_charger/reserve_soc", "number/v2x_charger/target_soc",
    "switch/v2x_charger/backup_allowed", "switch/v2x_charger/v2g_allowed",
    "button/v2x_charger/stop", "text/v2x_charger/departure", "sensor/v2x_charger/soc",
    "sensor/v2x_charger/grid_power_w", "sensor/v2x_charger/home_power_w",
    "sensor/v2x_charger/ev_power_w", "sensor/v2x_charger/pv_power_w",
    "sensor/v2x_charger/state", "sensor/v2x_charger/mode", "sensor/v2x_charger/faults",
    "sensor/v2x_charger/grid_voltage_v", "sensor/v2x_charger/grid_frequency_hz",
    "sensor/v2x_charger/energy_import_kwh", "sensor/v2x_charger/why",
    "binary_sensor/v2x_charger/grid_ok", "binary_sensor/v2x_charger/fault"}


def test_home_assistant_sees_the_charger_sets_a_mode_and_a_limit_and_the_plant_follows(
        sim_controller: SimController, broker: Broker) -> None:
    sim = sim_controller

    async def scenario() -> None:
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(sim.client())
            service = MqttService(_settings(broker), Preferences())
            gateway = asyncio.get_running_loop().create_task(host(client, [service], stop))
            ha = await stack.enter_async_context(HomeAssistant(broker.port))
            await ha.until(ha.announced)
            one = next(iter(ha.entities().values()))
            assert one["device"]["identifiers"] == ["v2x_charger"]
            await ha.until(lambda: ha.retained.get("v2x/v2x_charger/availability") == "online"
                           and ha.retained.get("v2x/v2x_charger/controller") == "online")
            # a mode and a limit from Home Assistant: one leased schedule claim
            assert (await ha.send("select", "mode_request", "charge"))["ok"]
            limit = await ha.send("number", "power_limit", "3.5")
            assert limit["ok"], limit
            took = await sim.wait_for(
                lambda sup, world: sup.state is State.ENERGISED_CHARGE
                and abs(world.inverter.ac_power_w - 3500.0) < 150.0, 60.0)
            claim = await sim.call(lambda sup, _w: sup.arbiter.claims[Source.SCHEDULE])
            assert (claim.mode, claim.power_w, claim.lease_s) == ("charge", 3500.0, LEASE_S)
            assert took < 60.0
            await ha.until(lambda: ha.state.get("state") == "energised_charge"
                           and ha.state.get("mode_winner") == "schedule"
                           and ha.state.get("power_limit_kw") == 3.5)
            # malformed and out-of-range commands: refused with a reason, nothing changes
            for component, object_id, payload, why in (
                    ("number", "power_limit", "abc", "must be a number"),
                    ("number", "power_limit", "nan", "finite"),
                    ("number", "power_limit", "1e9", "must be from 0 to 32"),
                    ("select", "mode_request", "turbo", "must be one of"),
                    ("select", "mode_request", "v2g", "v2g is not allowed"),
                    ("number", "target_soc", "120", "must be from 0 to 100"),
                    ("text", "departure", "25:99", "HH:MM"),
                    ("switch", "v2g_allowed", "maybe", "ON or OFF")):
                result = await ha.send(component, object_id, payload)
                assert not result["ok"] and why in result["reason"], result
            after = await sim.call(lambda sup, _w: sup.arbiter.claims[Source.SCHEDULE])
            assert (after.mode, after.power_w) == ("charge", 3500.0)
            # the stop button, then auto hands the charger back to the owner's wish
            assert (await ha.send("button", "stop", "PRESS"))["ok"]
            await sim.wait_for(lambda sup, _w: sup.state is State.IDLE, 60.0)
            assert (await ha.send("select", "mode_request", "auto"))["ok"]
            await sim.wait_for(lambda sup, _w: Source.SCHEDULE not in sup.arbiter.claims, 5.0)
            stop.set()
            await gateway

    run_async(scenario())


def test_a_command_sent_the_moment_the_gateway_is_online_is_answered(
        sim_controller: SimController, broker: Broker) -> None:
    """Home Assistant may act on the first sign of the gateway (its ``online``): the command
    topics are subscribed before anything is announced, so no such command is lost."""
    sim = sim_controller

    async def scenario() -> None:
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            ha = await stack.enter_async_context(HomeAssistant(broker.port))  # waiting already
            client = await stack.enter_async_context(sim.client())
            service = MqttService(_settings(broker), Preferences())
            gateway = asyncio.get_running_loop().create_task(host(client, [service], stop))
            await ha.until(lambda: ha.retained.get(service.topics["availability"]) == "online")
            await ha.client.publish(service.topics["set"] + "target_soc", "85")
            result = await asyncio.wait_for(ha.results.get(), GUARD_S)
            assert result["ok"] and result["command"] == "target_soc", result
            stop.set()
            await gateway

    run_async(scenario())


def test_commands_beyond_the_rate_limit_are_refused(
        sim_controller: SimController, broker: Broker) -> None:
    sim = sim_controller

    async def scenario() -> None:
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(sim.client())
            service = MqttService(_settings(broker, max_commands_per_minute=3), Preferences())
            gateway = asyncio.get_running_loop().create_task(host(client, [service], stop))
            ha = await stack.enter_async_context(HomeAssistant(broker.port))
            await ha.until(ha.announced)
            results = [await ha.send("number", "target_soc", str(80 + i)) for i in range(5)]
            assert [r["ok"] for r in results] == [True, True, True, False, False]
            assert "rate limited" in results[3]["reason"]
            stop.set()
            await gateway

    run_async(scenario())


def test_the_broker_restarts_and_everything_recovers(
        sim_controller: SimController, broker: Broker) -> None:
    sim = sim_controller

    async def scenario() -> None:
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(sim.client())
            service = MqttService(_settings(broker), Preferences())
            gateway = asyncio.get_running_loop().create_task(host(client, [service], stop))
            async with HomeAssistant(broker.port) as ha:
                await ha.until(ha.announced)
                assert (await ha.send("select", "mode_request", "charge"))["ok"]
            await sim.wait_for(lambda sup, _w: sup.state is State.ENERGISED_CHARGE, 60.0)
            broker.stop()
            # the broker is away for several leases: the claim is still renewed meanwhile
            start = await sim.now()
            await sim.wait_for(lambda sup, _w: sup.clock.now() - start > 2 * LEASE_S, 60.0)
            assert await sim.call(lambda sup, _w: sup.resolution.mode_source) == "schedule"
            broker.start()
            async with HomeAssistant(broker.port) as ha:  # a fresh broker: nothing retained
                await ha.until(lambda: ha.announced()
                               and ha.retained.get("v2x/v2x_charger/availability") == "online")
                assert (await ha.send("number", "power_limit", "2"))["ok"]
                await sim.wait_for(
                    lambda _s, world: abs(world.inverter.ac_power_w - 2000.0) < 150.0, 60.0)
            assert service.connects == 2
            stop.set()
            await gateway

    run_async(scenario())


@pytest.fixture
def gateway_config(tmp_path_factory: pytest.TempPathFactory, sim_controller: SimController,
                   broker: Broker) -> Iterator[str]:
    path = tmp_path_factory.mktemp("gw") / "gateway.toml"
    path.write_text(
        f'[controller]\nsocket_path = "{sim_controller.socket_path}"\npoll_interval_s = 0.1\n'
        f"reconnect_max_s = 0.5\n[mqtt]\nport = {broker.port}\nlease_s = {LEASE_S}\n"
        "min_publish_interval_s = 0.2\n[status_page]\nport = 0\n")
    parse_gateway_config({})  # the defaults load
    yield str(path)


def test_kill_9_of_the_gateway_lets_its_claim_lapse_within_the_lease(
        sim_controller: SimController, broker: Broker, gateway_config: str) -> None:
    sim = sim_controller
    process = subprocess.Popen([sys.executable, "-m", "gateway.main", "--config",
                                gateway_config], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)

    async def scenario() -> None:
        async with HomeAssistant(broker.port) as ha:
            await ha.until(lambda: ha.retained.get("v2x/v2x_charger/controller") == "online")
            assert (await ha.send("select", "mode_request", "charge"))["ok"]
            await sim.wait_for(lambda sup, _w: sup.state is State.ENERGISED_CHARGE, 60.0)
            start = await sim.now()  # renewed past a lease while the gateway lives
            await sim.wait_for(lambda sup, _w: sup.clock.now() - start > 1.5 * LEASE_S, 60.0)
            assert await sim.call(lambda sup, _w: sup.resolution.mode_source) == "schedule"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
            killed = await sim.now()
            await ha.until(lambda: ha.retained.get("v2x/v2x_charger/availability")
                           == "offline")  # the last will
            took = await sim.wait_for(
                lambda sup, _w: Source.SCHEDULE not in sup.arbiter.claims, 3 * LEASE_S)
            print(f"kill -9: the claim lapsed {took:.2f} s (controller clock) after the kill, "
                  f"lease {LEASE_S:g} s")
            assert took <= LEASE_S
            expiry = await sim.call(lambda sup, _w: [r for r in sup.request_log
                                                     if r.kind == "expiry"][-1])
            assert expiry.source == "schedule" and expiry.t <= killed + LEASE_S
            # what the controller may do is unchanged: it falls back and ramps down safely
            await sim.wait_for(lambda sup, _w: sup.state is State.IDLE, 60.0)

    try:
        run_async(scenario())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
