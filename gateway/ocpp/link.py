"""The station's websocket to the CSMS: connect, boot, heartbeat, drain the queue, reconnect.

Security profile 1 sends HTTP basic auth over ``ws://``; profile 2 does the same over
``wss://`` and checks the CSMS certificate and host name (a failed check never sends the
password). Back-off after a failed or lost connection doubles from ``reconnect_min_s`` to
``reconnect_max_s``. The station boots once per start (and after a Reset); a reconnect after an
accepted boot reports the connector and carries on, as OCPP allows.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from gateway.ocpp.clock import stamp
from gateway.ocpp.session import Session, make_session

if TYPE_CHECKING:
    from gateway.ocpp.station import Station

LOG = logging.getLogger("gateway.ocpp")
MAX_ATTEMPTS = 3  # OCPP's TransactionMessageAttempts default
RETRY_S = 60.0  # TransactionMessageRetryInterval default
HEARTBEAT_RECHECK_S = 5.0  # how soon a changed HeartbeatInterval takes effect
CONNECTION_ERRORS = (OSError, WebSocketException, TimeoutError, ssl.SSLError)
# A CallError where the station needs an answer (boot, heartbeat) ends the session like a lost
# connection: back off and connect again.
SESSION_ERRORS = (*CONNECTION_ERRORS, OCPPError)


class Link:
    def __init__(self, station: Station) -> None:
        self.station = station
        self.session: Session | None = None
        self.online = False  # connected and accepted by the CSMS
        self.registration = ""  # the last BootNotification status
        self.boot_reason = "PowerUp"
        self.connects = 0
        self._booted = False
        self._wake = asyncio.Event()
        self._reset = asyncio.Event()
        self._logged_failure = ""

    def wake_sender(self) -> None:
        self._wake.set()

    def request_reset(self) -> None:
        """Close the connection and boot again (Reset restarts this station, not the
        controller)."""
        self._booted = False
        self.boot_reason = "RemoteReset"
        self._reset.set()

    def _url(self) -> str:
        s = self.station.settings
        return s.csms_url.rstrip("/") + "/" + s.station_id

    def _headers(self) -> dict[str, str]:
        s = self.station.settings
        if not s.password:
            return {}
        token = base64.b64encode(f"{s.station_id}:{s.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _ssl(self) -> ssl.SSLContext | None:
        s = self.station.settings
        if s.security_profile < 2:
            return None
        return ssl.create_default_context(cafile=s.ca_file or None)

    async def run(self) -> None:
        s = self.station.settings
        backoff = s.reconnect_min_s
        while True:
            try:
                async with connect(self._url(), subprotocols=list(s.subprotocols),  # type: ignore[arg-type]
                                   additional_headers=self._headers(), ssl=self._ssl(),
                                   proxy=None, open_timeout=s.response_timeout_s,
                                   ping_interval=None) as ws:
                    backoff = s.reconnect_min_s
                    self.connects += 1
                    self._logged_failure = ""
                    await self._serve(ws)
            except SESSION_ERRORS as err:
                text = f"{type(err).__name__}: {err}"
                if text != self._logged_failure:
                    LOG.warning("CSMS %s: %s (connecting again after a back-off)",
                                self._url(), text)
                    self._logged_failure = text
            finally:
                self.online = False
                self.session = None
            if self._reset.is_set():
                self._reset.clear()
                continue
            await self.station.clock.sleep(backoff)
            backoff = min(backoff * 2, s.reconnect_max_s)

    async def _serve(self, ws: ClientConnection) -> None:
        session = make_session(ws.subprotocol or "", self.station, ws)
        self.session = session
        receive = asyncio.create_task(session.start(), name="ocpp-receive")
        work = asyncio.create_task(self._work(session), name="ocpp-work")
        reset = asyncio.create_task(self._reset.wait(), name="ocpp-reset")
        try:
            done, _ = await asyncio.wait({receive, work, reset},
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not reset and not task.cancelled() and task.exception() is not None:
                    error = task.exception()
                    raise error  # type: ignore[misc]
        finally:
            for task in (receive, work, reset):
                task.cancel()
            await asyncio.gather(receive, work, reset, return_exceptions=True)
            self.online = False
            await ws.close()

    async def _work(self, session: Session) -> None:
        if not self._booted:
            await self._boot(session)
        self.online = True
        await self.station.report_connector(force=True)
        await asyncio.gather(self._heartbeat(session), self._sender(session))

    async def _boot(self, session: Session) -> None:
        s = self.station.settings
        station: dict[str, Any] = {"model": s.model, "vendor_name": s.vendor,
                                   "firmware_version": s.firmware_version}
        if s.serial_number:
            station["serial_number"] = s.serial_number
        while True:
            reply = await session.call(session.calls.BootNotification(
                charging_station=station, reason=self.boot_reason), suppress=False)
            self.registration = str(reply.status)
            interval = float(reply.interval)
            if self.registration == "Accepted":
                if interval > 0:
                    self.station.device_model.set("OCPPCommCtrlr", "HeartbeatInterval",
                                                  str(int(interval)))
                self._booted = True
                self.boot_reason = "PowerUp"
                return
            LOG.warning("the CSMS answered the boot with %s; trying again in %g s",
                        self.registration, interval if interval > 0 else s.boot_retry_s)
            await self.station.clock.sleep(interval if interval > 0 else s.boot_retry_s)

    async def _heartbeat(self, session: Session) -> None:
        """A Heartbeat every HeartbeatInterval; a new interval (SetVariables, a boot answer)
        counts from the last heartbeat at once, not after the old interval ran out."""
        clock = self.station.clock
        last = clock.time()
        while True:
            due = last + self.station.device_model.number("OCPPCommCtrlr.HeartbeatInterval")
            if clock.time() < due - 1e-6:
                await clock.sleep(min(due - clock.time(), HEARTBEAT_RECHECK_S))
                continue
            await session.call(session.calls.Heartbeat(), suppress=False)
            last = clock.time()

    async def _sender(self, session: Session) -> None:
        store = self.station.store
        while True:
            item = store.peek()
            if item is None:
                self._wake.clear()
                if store.peek() is None:
                    await self._wake.wait()
                continue
            message = getattr(session.calls, item.action)(**item.payload)
            try:
                await session.call(message, suppress=False)
            except OCPPError as err:
                store.attempted(item.seq)
                if item.attempts + 1 >= MAX_ATTEMPTS:
                    LOG.error("the CSMS refused %s seqNo %s %d times (%s): dropped", item.action,
                              item.payload.get("seq_no"), MAX_ATTEMPTS, err)
                    store.ack(item.seq)
                else:
                    await self.station.clock.sleep(RETRY_S)
                continue
            store.ack(item.seq)

    # ----- calls the station makes while online ----------------------------------------
    async def status_notification(self, connector_status: str) -> None:
        """Best effort: a lost connection reports the connector again on reconnect."""
        session = self.session
        if session is None:
            return
        try:
            await session.call(session.calls.StatusNotification(
                timestamp=stamp(self.station.clock.time()), connector_status=connector_status,
                evse_id=1, connector_id=1), suppress=False)
        except (*CONNECTION_ERRORS, OCPPError) as err:
            LOG.info("StatusNotification %s not delivered: %s", connector_status, err)

    async def authorize(self, id_token: str, token_type: str) -> str | None:
        session = self.session
        if session is None:
            return None
        reply = await session.call(session.calls.Authorize(
            id_token={"id_token": id_token, "type": token_type}), suppress=False)
        return str(reply.id_token_info["status"])

    async def meter_values(self) -> None:
        from gateway.ocpp.transaction import sampled_values

        session = self.session
        values = sampled_values(self.station.status, "Trigger")
        if session is None or not values:
            return
        await session.call(session.calls.MeterValues(evse_id=1, meter_value=[
            {"timestamp": stamp(self.station.clock.time()), "sampled_value": values}]),
            suppress=False)
