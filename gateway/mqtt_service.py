"""MQTT and Home Assistant: discovery, state, availability with a last will, commands, results.

On every (re)connection to the broker: a subscription to the command topics first (a command
sent on the first sign of the gateway is not lost), then ``online`` on the availability topic
(the last will says ``offline``), the retained discovery configs and the controller link's
availability. The state (one retained JSON object) is published when it
changed, at most every ``min_publish_interval_s`` (and at least every ``HEARTBEAT_S``).
Commands go through :class:`HomeAssistantCommands`; each gets a result message (ok or the
refusal's reason) on the result topic. More than ``max_commands_per_minute`` commands are
refused without being looked at. A broker that goes away is reconnected with a doubling
back-off; the claims already made keep being renewed by the controller client meanwhile.

aiomqtt (asyncio over paho-mqtt 2) is used rather than bare paho: the gateway is one asyncio
process, and aiomqtt's ``async with``/``async for`` needs no thread or callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from importlib import metadata
from typing import Any

import aiomqtt

from gateway.api import ControllerApi, ControllerStatus
from gateway.ha_commands import HomeAssistantCommands
from gateway.ha_discovery import discovery, topics
from gateway.preferences import Preferences
from gateway.settings import MqttSettings

log = logging.getLogger("v2x.gateway.mqtt")

HEARTBEAT_S = 60.0
TICK_S = 0.1  # how often the state is looked at (publishing itself is rate limited)
W_PER_KW = 1000.0


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else round(wh / W_PER_KW, 3)


def state_payload(st: ControllerStatus | None, prefs: Preferences) -> dict[str, Any]:
    """The state topic's JSON: the controller's status and the gateway's preferences."""
    data: dict[str, Any] = {
        "requested_mode": prefs.manual_mode or "auto",
        "power_limit_kw": None if prefs.power_limit_w is None else prefs.power_limit_w / W_PER_KW,
        "reserve_soc": prefs.reserve_soc_pct, "target_soc": prefs.target_soc_pct,
        "departure": prefs.departure, "backup_allowed": prefs.backup_allowed,
        "v2g_allowed": prefs.v2g_allowed,
        "planner": prefs.planner_status, "plan_mode": prefs.plan.get("mode"),
        "plan_power_kw": prefs.plan.get("power_kw"), "plan_savings": prefs.plan.get("savings"),
        "plan_energy_cost": prefs.plan.get("energy_cost"),
        "plan_wear_cost": prefs.plan.get("wear_cost")}
    if st is None:
        return data
    why = f"won by {st.mode_winner}"
    if st.blocked:
        why += f"; waiting: {st.blocked}"
    data.update({
        "t": st.t, "state": st.state, "mode": st.mode, "mode_winner": st.mode_winner,
        "power_winner": st.power_winner, "controller_power_limit_w": st.power_limit_w,
        "soc": st.ev_soc_pct, "grid_power_w": st.grid_power_w, "home_power_w": st.home_power_w,
        "ev_power_w": st.ev_power_w, "pv_power_w": st.pv_power_w,
        "grid_voltage_v": st.grid_voltage_v, "grid_frequency_hz": st.grid_frequency_hz,
        "grid_ok": st.grid_ok, "grid_reason": st.grid_reason,
        "faults": ", ".join(st.faults) or "none", "fault_count": len(st.faults),
        "blocked": st.blocked, "why": why,
        "energy_import_kwh": _kwh(st.energy_import_wh),
        "energy_export_kwh": _kwh(st.energy_export_wh)})
    return data


def _honour_cancellation() -> None:
    """Raise CancelledError when this task was cancelled and the cancellation got lost.

    aiomqtt awaits every acknowledged call (connect, subscribe, a QoS 1 publish, disconnect)
    with ``asyncio.wait_for``, which on Python 3.11 returns the result instead of raising when
    the cancellation arrives in the same loop pass as the acknowledgement (CPython gh-86296,
    fixed in 3.12). The task still counts the request (``Task.cancelling()``), so it is honoured
    here, after each such call: without it the stop was lost and the service went on waiting
    for messages (or publishing) for ever (tests/test_gateway_mqtt_stop.py)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class RateLimit:
    """At most ``count`` events in any ``window_s`` (a sliding window)."""

    def __init__(self, count: int, window_s: float, clock: Callable[[], float]) -> None:
        self.count, self.window_s, self._clock = count, window_s, clock
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = self._clock()
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        if len(self._times) >= self.count:
            return False
        self._times.append(now)
        return True


def _tls(s: MqttSettings) -> ssl.SSLContext | None:
    if not s.tls:
        return None
    context = ssl.create_default_context(cafile=s.ca_file or None)
    if s.cert_file:
        context.load_cert_chain(s.cert_file, s.key_file or None)
    return context


class MqttService:
    """The gateway's MQTT integration (a :class:`gateway.host.Service`)."""

    name = "mqtt"

    def __init__(self, settings: MqttSettings, prefs: Preferences,
                 clock: Callable[[], float] = time.monotonic,
                 client_factory: Callable[..., aiomqtt.Client] = aiomqtt.Client) -> None:
        """``client_factory``: makes the broker connection (aiomqtt.Client's arguments); a
        test passes one that watches the real client's traffic."""
        self.settings = settings
        self.prefs = prefs
        self.topics = topics(settings)
        self._clock = clock
        self._client_factory = client_factory
        self._limit = RateLimit(settings.max_commands_per_minute, 60.0, clock)
        self.connects = 0
        self.published_states = 0
        self._down = False  # the broker could not be reached (logged once until it returns)

    async def run(self, api: ControllerApi) -> None:
        commands = HomeAssistantCommands(api, self.prefs, self.settings.lease_s)
        backoff = 0.2
        while True:
            try:
                async with self._client() as client:
                    backoff = 0.2
                    await self._session(client, api, commands)
            except aiomqtt.MqttError as err:  # said once per outage, not at every retry
                _honour_cancellation()  # a disconnect that failed while stopping: stop
                level = logging.DEBUG if self._down else logging.WARNING
                self._down = True
                log.log(level, "MQTT broker %s:%d: %s (retrying, at most every %.0f s)",
                        self.settings.host, self.settings.port, err,
                        self.settings.reconnect_max_s)
            await asyncio.sleep(backoff)
            backoff = min(2 * backoff, self.settings.reconnect_max_s)

    def _client(self) -> aiomqtt.Client:
        s = self.settings
        will = aiomqtt.Will(self.topics["availability"], "offline", qos=1, retain=True)
        return self._client_factory(s.host, s.port, username=s.username or None,
                                    password=s.password or None, identifier=s.client_id,
                                    will=will, keepalive=s.keepalive_s, tls_context=_tls(s))

    async def _session(self, client: aiomqtt.Client, api: ControllerApi,
                       commands: HomeAssistantCommands) -> None:
        self.connects += 1
        t = self.topics
        # Subscribed first: Home Assistant may command as soon as it sees ``online`` or an
        # entity, and a command published before the subscription would be lost unanswered.
        await client.subscribe(t["set"] + "+", qos=1)
        _honour_cancellation()  # after every acknowledged call (and the connect before it)
        await client.publish(t["availability"], "online", qos=1, retain=True)
        _honour_cancellation()
        try:
            version = metadata.version("v2x-controller")
        except metadata.PackageNotFoundError:
            version = "unknown"
        for topic, payload in discovery(self.settings, version).items():
            await client.publish(topic, payload, qos=1, retain=True)
            _honour_cancellation()
        log.info("MQTT connected to %s:%d", self.settings.host, self.settings.port)
        self._down = False
        publisher = asyncio.get_running_loop().create_task(self._publish_loop(client, api,
                                                                              commands))
        try:
            async for message in client.messages:
                name = message.topic.value.removeprefix(t["set"])
                raw = message.payload if isinstance(message.payload, bytes) else \
                    str(message.payload).encode()
                await self._command(client, commands, name, raw)
                _honour_cancellation()
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await publisher

    async def _command(self, client: aiomqtt.Client, commands: HomeAssistantCommands,
                       name: str, raw: bytes) -> None:
        if not self._limit.allow():
            outcome_ok, reason = False, (f"rate limited: more than "
                                         f"{self.settings.max_commands_per_minute} commands a "
                                         "minute; nothing changed")
        else:
            try:
                outcome = await commands.handle(name, raw)
                outcome_ok, reason = outcome.ok, outcome.reason
            except Exception as err:  # one bad command must not end the MQTT session
                log.exception("MQTT command %s failed", name[:32])
                outcome_ok, reason = False, f"internal error: {type(err).__name__}"
        result = {"command": name[:32], "payload": raw[:64].decode("utf-8", "replace"),
                  "ok": outcome_ok, "reason": reason}
        if not outcome_ok:
            log.info("MQTT command %s refused: %s", name[:32], reason)
        await client.publish(self.topics["result"], json.dumps(result, sort_keys=True), qos=1)

    async def _publish_loop(self, client: aiomqtt.Client, api: ControllerApi,
                            commands: HomeAssistantCommands) -> None:
        last_payload: str | None = None
        last_at = -HEARTBEAT_S
        link: bool | None = None
        while True:
            if api.connected != link:
                link = api.connected
                await client.publish(self.topics["controller"], "online" if link else "offline",
                                     qos=1, retain=True)
                _honour_cancellation()
            stopped = await commands.automation()
            if stopped:
                await client.publish(self.topics["result"], json.dumps(
                    {"command": "automation", "ok": True, "reason": stopped}), qos=1)
                _honour_cancellation()
            payload = json.dumps(state_payload(api.status, self.prefs), sort_keys=True)
            now = self._clock()
            due = now - last_at >= self.settings.min_publish_interval_s
            if due and (payload != last_payload or now - last_at >= HEARTBEAT_S):
                await client.publish(self.topics["state"], payload, qos=0, retain=True)
                self.published_states += 1
                last_payload, last_at = payload, now
            await asyncio.sleep(TICK_S)
