"""The MQTT service stops when it is cancelled, wherever the cancellation lands (a real
mosquitto, the real aiomqtt client).

The hang this guards against: on Python 3.11, ``asyncio.wait_for`` (which aiomqtt awaits for
every acknowledged call: subscribe, a QoS 1 publish, connect, disconnect) loses a cancellation
that arrives in the same loop pass as the acknowledgement it waits for (CPython gh-86296, fixed
in 3.12). The service then went on (publishing discovery, waiting for messages, or, in its
publisher task, publishing every 0.1 s) and ``await gateway`` after ``stop.set()`` never
returned. Here the stop is made to arrive exactly with each acknowledgement of a session in
turn: the test's client factory wraps the real client's ``on_publish`` callback, so the
service task is cancelled right after the client has seen the broker's PUBACK. The wall-clock
guard only stops a hang from hanging the suite; nothing is timed by it.
"""

from __future__ import annotations

import asyncio
from importlib import metadata
from typing import Any

import aiomqtt
import mqtt_broker
from gateway_fixtures import run_async
from mqtt_broker import Broker

from gateway.controller_client import ControllerClient
from gateway.ha_discovery import discovery
from gateway.mqtt_service import MqttService
from gateway.preferences import Preferences
from gateway.settings import MqttSettings

broker = mqtt_broker.broker
STOP_GUARD_S = 10.0  # a service that has not stopped by then hangs (it stops in milliseconds)


def _acknowledged_per_session(settings: MqttSettings) -> int:
    """QoS 1 publishes a session awaits before it idles: ``online``, each discovery config and
    the publisher's first controller-availability message."""
    try:
        version = metadata.version("v2x-controller")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return 1 + len(discovery(settings, version)) + 1


async def _stop_at_ack(settings: MqttSettings, api: ControllerClient, nth: int) -> str:
    """Run the service, cancel it just as the ``nth`` PUBACK arrives; what became of it."""
    task: list[asyncio.Task[None]] = []
    acks = [0]

    def factory(*args: Any, **kwargs: Any) -> aiomqtt.Client:
        client = aiomqtt.Client(*args, **kwargs)
        paho = client._client  # the real callback stays; the stop is sent right after it
        on_publish = paho.on_publish

        def acknowledged(*callback_args: Any) -> None:
            on_publish(*callback_args)
            acks[0] += 1
            if acks[0] == nth:
                task[0].cancel()

        paho.on_publish = acknowledged
        return client

    service = MqttService(settings, Preferences(), client_factory=factory)
    task.append(asyncio.get_running_loop().create_task(service.run(api)))
    done, _ = await asyncio.wait(task, timeout=STOP_GUARD_S)
    if task[0] not in done:
        task[0].cancel()  # a second cancellation lands elsewhere: the test can end
        await asyncio.wait(task, timeout=STOP_GUARD_S)
        return f"still running {STOP_GUARD_S:g} s after the stop (at PUBACK {nth} of " \
               f"{acks[0]} seen)"
    return "cancelled" if task[0].cancelled() else f"ended otherwise: {task[0].exception()!r}"


def test_a_stop_that_arrives_with_any_broker_acknowledgement_stops_the_service(
        broker: Broker) -> None:
    settings = MqttSettings(port=broker.port, min_publish_interval_s=0.2, reconnect_max_s=0.5)
    count = _acknowledged_per_session(settings)

    async def scenario() -> None:
        api = ControllerClient("/nonexistent/v2x/control.sock", backoff_max_s=0.05)
        async with api:  # no controller: the service runs all the same ("offline")
            for nth in range(1, count + 1):  # the first that does not stop ends the test
                outcome = await _stop_at_ack(settings, api, nth)
                assert outcome == "cancelled", f"stopped at PUBACK {nth}: {outcome}"

    run_async(scenario(), timeout_s=2 * STOP_GUARD_S + 60.0 + count)
