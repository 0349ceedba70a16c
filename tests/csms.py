"""A real central system (CSMS) for the OCPP tests, written with the same ``ocpp`` library.

It listens on a localhost port with ``websockets``, checks basic auth (and serves TLS when
given a certificate), validates every message against the OCPP schemas (the library does), and
records what the station sent, in order. Tests send it requests for the station and can send
raw frames to see the station's CallError. ``stop()`` makes it vanish (the station sees the
connection drop and reconnects are refused) and ``start()`` on the same port brings it back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v201 import ChargePoint as ChargePoint201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

WAIT_S = 20.0  # real seconds a test waits for the station's traffic before it fails


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Recording:
    csms: Csms

    def _keep(self, action: str, payload: dict[str, Any]) -> None:
        self.csms.received.append((action, payload))

    @on("BootNotification")
    def on_boot(self, **payload: Any) -> Any:
        self._keep("BootNotification", payload)
        status = self.csms.boot_statuses.pop(0) if self.csms.boot_statuses else "Accepted"
        if status == "CallError":
            raise ValueError("the CSMS failed")  # the library answers InternalError
        return self._call_result.BootNotification(  # type: ignore[attr-defined]
            current_time=_now(), interval=self.csms.boot_interval, status=status)

    @on("Heartbeat")
    def on_heartbeat(self, **payload: Any) -> Any:
        self._keep("Heartbeat", payload)
        return self._call_result.Heartbeat(current_time=_now())  # type: ignore[attr-defined]

    @on("StatusNotification")
    def on_status(self, **payload: Any) -> Any:
        self._keep("StatusNotification", payload)
        return self._call_result.StatusNotification()  # type: ignore[attr-defined]

    @on("TransactionEvent")
    def on_transaction_event(self, **payload: Any) -> Any:
        self._keep("TransactionEvent", payload)
        return self._call_result.TransactionEvent()  # type: ignore[attr-defined]

    @on("MeterValues")
    def on_meter_values(self, **payload: Any) -> Any:
        self._keep("MeterValues", payload)
        return self._call_result.MeterValues()  # type: ignore[attr-defined]

    @on("NotifyReport")
    def on_notify_report(self, **payload: Any) -> Any:
        self._keep("NotifyReport", payload)
        return self._call_result.NotifyReport()  # type: ignore[attr-defined]

    @on("Authorize")
    def on_authorize(self, id_token: dict[str, Any], **payload: Any) -> Any:
        self._keep("Authorize", {"id_token": id_token, **payload})
        status = "Accepted" if id_token["id_token"] in self.csms.known_tokens else "Invalid"
        return self._call_result.Authorize(  # type: ignore[attr-defined]
            id_token_info={"status": status})

    async def route_message(self, raw_msg: str) -> None:
        frame = json.loads(raw_msg)
        if isinstance(frame, list) and frame and frame[0] in (3, 4):
            self.csms.frames.append(frame)
        await super().route_message(raw_msg)  # type: ignore[misc]


class Session201(_Recording, ChargePoint201):  # type: ignore[misc]
    pass


class Session21(_Recording, ChargePoint21):  # type: ignore[misc]
    pass


class Csms:
    def __init__(self, station_id: str, *, versions: tuple[str, ...] = ("ocpp2.1", "ocpp2.0.1"),
                 password: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.station_id = station_id
        self.versions = versions
        self.password = password
        self.tls = tls
        self.port = 0
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.frames: list[list[Any]] = []  # CallResults and CallErrors the station sent
        self.boot_statuses: list[str] = []  # answers to the next boots (then Accepted);
        # "CallError" answers with a CallError
        self.boot_interval = 300
        self.known_tokens: set[str] = set()
        self.refused_auth = 0
        self.session: Session201 | Session21 | None = None
        self._server: Server | None = None
        self._serving: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://localhost:{self.port}/ocpp"

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != f"/ocpp/{self.station_id}":
            return connection.respond(404, "unknown station\n")
        if self.password is not None:
            want = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {want}":
                self.refused_auth += 1
                return connection.respond(401, "bad credentials\n")
        return None

    async def start(self) -> None:
        self._server = await serve(self._serve, "localhost", self.port,
                                   subprotocols=list(self.versions),  # type: ignore[arg-type]
                                   process_request=self._check, ssl=self.tls, ping_interval=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def _serve(self, ws: ServerConnection) -> None:
        cls = Session21 if ws.subprotocol == "ocpp2.1" else Session201
        session = cls(self.station_id, ws, response_timeout=WAIT_S)
        session.csms = self
        self.session = session
        try:
            await session.start()
        except Exception:
            pass
        finally:
            if self.session is session:
                self.session = None

    async def stop(self) -> None:
        """Vanish: close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.session = None

    # ----- helpers for tests ------------------------------------------------------------
    def of(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]

    async def wait_for(self, predicate: Callable[[], bool], what: str,
                       timeout_s: float = WAIT_S) -> None:
        """Wait (real time, bounded) until ``predicate()``; fails naming ``what``."""
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.005)
        assert predicate(), what

    async def connected(self) -> Session201 | Session21:
        await self.wait_for(lambda: self.session is not None, "the station connected")
        assert self.session is not None
        return self.session

    async def call(self, name: str, **kwargs: Any) -> Any:
        """Send a request to the station and return its answer (a call_result object)."""
        session = await self.connected()
        return await session.call(getattr(session._call, name)(**kwargs), suppress=False)

    async def send_raw(self, text: str) -> list[Any]:
        """Send a raw frame; returns the next frame the station answers with."""
        session = await self.connected()
        before = len(self.frames)
        await session._connection.send(text)
        await self.wait_for(lambda: len(self.frames) > before, "the station answered")
        return self.frames[before]
