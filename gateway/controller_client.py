"""The controller over its control socket: :class:`ControllerApi` for the integrations.

One connection, kept by a background task: it reconnects with a doubling back-off, turns the
event stream on, polls ``status`` every ``poll_interval_s`` and renews every claim it holds
after ``renew_fraction`` of its lease, measured both on this process's clock and on the
controller's (whichever comes first, so a simulator running faster than real time is renewed in
time too). After a reconnect (the controller restarted, its claims are gone) every held claim is
made again. A claim refused on renewal is dropped and reported as a ``claim_lost`` event. The
client never decides anything itself: what it is asked it forwards, and the controller's reply
(accepted, or refused with a reason) is what the caller gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, get_args

from gateway import framing
from gateway.api import ClaimReply, ControllerEvent, ControllerStatus, Mode, Requester

log = logging.getLogger("v2x.gateway.client")

REQUESTERS: tuple[str, ...] = get_args(Requester)
MODES: tuple[str, ...] = get_args(Mode)
READ_LIMIT = 1 << 20  # the longest reply line accepted (a `log 200` is about 40 kB)
EVENT_QUEUE = 1000  # events waiting for a slow subscriber; the oldest are dropped


@dataclass
class _Held:
    mode: str | None
    power_limit_w: float | None
    lease_s: float
    sent_at: float  # this process's clock when it was last accepted
    controller_t: float  # the controller's clock then


class NotConnected(ConnectionError):
    """The socket is not connected (or the connection ended while waiting for the reply)."""


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def status_from(data: dict[str, Any]) -> ControllerStatus:
    """A status reply's data as :class:`ControllerStatus` (non-finite numbers become None)."""
    faults = data.get("faults")
    return ControllerStatus(
        t=_num(data.get("t")) or 0.0, state=str(data.get("state", "")),
        mode=str(data.get("request", "")), mode_winner=str(data.get("request_source", "")),
        power_limit_w=_num(data.get("power_limit_w")),
        power_winner=str(data.get("power_winner", "")),
        grid_voltage_v=_num(data.get("grid_voltage_v")),
        grid_frequency_hz=_num(data.get("grid_frequency_hz")),
        grid_ok=data.get("grid_ok") is True, grid_reason=str(data.get("grid_reason", "")),
        ev_soc_pct=_num(data.get("ev_soc_pct")), grid_power_w=_num(data.get("grid_power_w")),
        home_power_w=_num(data.get("home_power_w")), ev_power_w=_num(data.get("ev_power_w")),
        pv_power_w=_num(data.get("pv_power_w")),
        commanded_power_w=_num(data.get("commanded_power_w")) or 0.0,
        faults=tuple(str(f) for f in faults) if isinstance(faults, list) else (),
        blocked=None if data.get("blocked") is None else str(data.get("blocked")),
        energy_import_wh=_num(data.get("energy_import_wh")),
        energy_export_wh=_num(data.get("energy_export_wh")),
        ev_phase=None if data.get("ev_phase") is None else str(data.get("ev_phase")))


def claim_problem(requester: str, mode: str | None, power_limit_w: float | None,
                  lease_s: float) -> str:
    """Why a claim cannot be sent as it is ("" when it can); nothing is sent then."""
    if requester not in REQUESTERS:
        return f"requester {requester!r}: must be one of {', '.join(REQUESTERS)}"
    if mode is not None and mode not in MODES:
        return f"mode {mode!r}: must be one of {', '.join(MODES)}"
    if power_limit_w is not None and not (math.isfinite(power_limit_w) and power_limit_w >= 0):
        return f"power_limit_w = {power_limit_w}: must be a finite number of watts >= 0"
    if not (isinstance(lease_s, int | float) and math.isfinite(lease_s) and lease_s > 0):
        return f"lease_s = {lease_s}: must be a finite number of seconds > 0"
    if mode is None and power_limit_w is None:
        return "the claim states neither a mode nor a power limit (release it instead)"
    return ""


class ControllerClient:
    """:class:`gateway.api.ControllerApi` over the Unix socket at ``path``."""

    def __init__(self, path: str, *, poll_interval_s: float = 1.0,
                 renew_fraction: float = 1.0 / 3.0, reply_timeout_s: float = 5.0,
                 backoff_min_s: float = 0.1, backoff_max_s: float = 10.0,
                 stale_after_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.poll_interval_s = poll_interval_s
        self.renew_fraction = renew_fraction
        self.reply_timeout_s = reply_timeout_s
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._subscribers: list[asyncio.Queue[ControllerEvent | None]] = []
        self._writer: asyncio.StreamWriter | None = None
        self._status: ControllerStatus | None = None
        self._lost_at: float | None = None
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._up = asyncio.Event()
        self._wake = asyncio.Event()
        self.connects = 0  # successful connections so far (the first one included)

    # ----- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start keeping the connection (in the running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="controller")

    async def close(self) -> None:
        """Stop: the connection ends and claims are no longer renewed (their leases run out;
        call :meth:`release` first to withdraw them at once)."""
        self._closing.set()
        task, self._task = self._task, None
        while task is not None and not task.done():  # cancel again should one be swallowed
            task.cancel()
            await asyncio.wait([task], timeout=1.0)
        for queue in self._subscribers:
            self._offer(queue, None)

    async def __aenter__(self) -> ControllerClient:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_connected(self, timeout_s: float | None = None) -> bool:
        """True once connected (False if ``timeout_s`` passed first)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._up.wait()
        except TimeoutError:
            return False
        return True

    # ----- ControllerApi -----------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def status(self) -> ControllerStatus | None:
        if (not self.connected and self._lost_at is not None
                and self._clock() - self._lost_at > self.stale_after_s):
            return None
        return self._status

    @property
    def held(self) -> dict[str, tuple[str | None, float | None, float]]:
        """The claims this client holds and renews: requester -> (mode, power, lease)."""
        return {r: (h.mode, h.power_limit_w, h.lease_s) for r, h in self._held.items()}

    async def claim(self, requester: Requester, *, mode: Mode | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        problem = claim_problem(requester, mode, power_limit_w, lease_s)
        if problem:
            return ClaimReply(False, f"not sent: {problem}")
        try:
            reply = await self._send_claim(requester, mode, power_limit_w, lease_s)
        except NotConnected as err:
            return ClaimReply(False, f"not connected to the controller ({err}): nothing was "
                              "claimed")
        except TimeoutError:
            return ClaimReply(False, f"no reply from the controller within "
                              f"{self.reply_timeout_s:g} s (the claim may still apply; it is "
                              "not renewed)")
        return reply

    async def release(self, requester: Requester) -> ClaimReply:
        if requester not in REQUESTERS:
            return ClaimReply(False, f"not sent: requester {requester!r}: must be one of "
                              f"{', '.join(REQUESTERS)}")
        self._held.pop(requester, None)
        try:
            reply = await self.request(f"release {requester}")
        except (NotConnected, TimeoutError) as err:
            return ClaimReply(False, f"no answer from the controller ({err or 'timeout'}): "
                              "the claim is no longer renewed and lapses with its lease")
        return ClaimReply(bool(reply.get("ok")), str(reply.get("text", "")),
                          dict(reply.get("data") or {}))

    def events(self) -> AsyncIterator[ControllerEvent]:
        queue: asyncio.Queue[ControllerEvent | None] = asyncio.Queue(EVENT_QUEUE)
        self._subscribers.append(queue)
        return self._drain(queue)

    async def _drain(self, queue: asyncio.Queue[ControllerEvent | None]
                     ) -> AsyncIterator[ControllerEvent]:
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(queue)

    # ----- requests ----------------------------------------------------------------------
    async def request(self, body: str) -> dict[str, Any]:
        """Send one framed request and return its JSON reply (NotConnected when there is no
        connection or it ends first; TimeoutError after ``reply_timeout_s``)."""
        writer = self._writer
        if writer is None or not self.connected:
            raise NotConnected("no connection")
        return await self._exchange(writer, body)

    async def _exchange(self, writer: asyncio.StreamWriter, body: str) -> dict[str, Any]:
        self._seq = self._seq % (framing.SEQ_LIMIT - 1) + 1
        seq = str(self._seq)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[seq] = future
        try:
            writer.write(framing.frame(body, seq))
            await writer.drain()
            async with asyncio.timeout(self.reply_timeout_s):  # never swallows a cancel
                return await future
        except (ConnectionError, OSError) as err:
            raise NotConnected(str(err)) from err
        finally:
            self._pending.pop(seq, None)

    async def _send_claim(self, requester: str, mode: str | None, power: float | None,
                          lease_s: float, writer: asyncio.StreamWriter | None = None
                          ) -> ClaimReply:
        body = (f"claim {requester} {mode or '-'} {framing.number_word(power)} "
                f"{framing.number_word(lease_s)}")
        reply = await (self._exchange(writer, body) if writer else self.request(body))
        data = dict(reply.get("data") or {})
        ok = bool(reply.get("ok"))
        if ok:
            t = _num(data.get("t"))
            self._held[requester] = _Held(mode, power, lease_s, self._clock(),
                                          t if t is not None else self._controller_t())
        return ClaimReply(ok, str(reply.get("text", "")), data)

    def _controller_t(self) -> float:
        return self._status.t if self._status is not None else 0.0

    # ----- the connection ----------------------------------------------------------------
    async def _run(self) -> None:
        backoff = self.backoff_min_s
        while not self._closing.is_set():
            try:
                reader, writer = await asyncio.open_unix_connection(self.path, limit=READ_LIMIT)
            except OSError as err:
                log.debug("controller socket %s: %s (retry in %.1f s)", self.path, err, backoff)
                await self._pause(backoff)
                backoff = min(2 * backoff, self.backoff_max_s)
                continue
            try:
                await self._session(reader, writer)
                backoff = self.backoff_min_s  # a session that worked restarts the back-off
            except (NotConnected, TimeoutError, ConnectionError, OSError) as err:
                log.warning("controller connection lost: %s", err or type(err).__name__)
            except Exception:  # a bug here must not end the reconnecting for good
                log.exception("controller connection: unexpected error; reconnecting")
            finally:
                self._lost()
                writer.close()
            await self._pause(backoff)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    async def _session(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        receiving = asyncio.get_running_loop().create_task(self._receive(reader))
        try:
            self._writer = writer
            await self._exchange(writer, "events on")
            await self._poll(writer)
            for requester, held in list(self._held.items()):  # after a restart: claim again
                reply = await self._send_claim(requester, held.mode, held.power_limit_w,
                                               held.lease_s, writer)
                if not reply.ok:
                    self._drop(requester, reply.text)
            self.connects += 1
            self._up.set()
            self._lost_at = None
            self._publish(ControllerEvent("connected", self._controller_t(),
                                          {"connects": self.connects}))
            log.info("connected to the controller at %s", self.path)
            while not receiving.done() and not self._closing.is_set():
                await asyncio.wait([receiving], timeout=self.poll_interval_s)
                if receiving.done():
                    break
                await self._poll(writer)
                await self._renew(writer)
            if self._closing.is_set() or not receiving.done() or receiving.cancelled():
                raise NotConnected("the client is closing")
            raise NotConnected(receiving.result())
        finally:
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiving

    async def _poll(self, writer: asyncio.StreamWriter) -> None:
        reply = await self._exchange(writer, "status")
        if reply.get("ok") and isinstance(reply.get("data"), dict):
            self._status = status_from(reply["data"])

    async def _renew(self, writer: asyncio.StreamWriter) -> None:
        now, controller_now = self._clock(), self._controller_t()
        for requester, held in list(self._held.items()):
            due = held.lease_s * self.renew_fraction
            if now - held.sent_at < due and controller_now - held.controller_t < due:
                continue
            reply = await self._send_claim(requester, held.mode, held.power_limit_w,
                                           held.lease_s, writer)
            if not reply.ok:
                self._drop(requester, reply.text)

    def _drop(self, requester: str, why: str) -> None:
        self._held.pop(requester, None)
        log.warning("%s claim refused on renewal and dropped: %s", requester, why)
        self._publish(ControllerEvent("claim_lost", self._controller_t(),
                                      {"requester": requester, "reason": why}))

    async def _receive(self, reader: asyncio.StreamReader) -> str:
        """Replies to their requests, events to the subscribers; returns why it ended."""
        while True:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                return "a reply line longer than the client accepts"
            except (ConnectionError, OSError) as err:
                return str(err)
            if not line:
                return "the controller closed the connection"
            try:
                message = framing.parse_line(line)
            except ValueError:
                log.warning("controller sent a line that is not JSON: %r", line[:80])
                continue
            if "event" in message:
                kind = str(message.pop("event"))
                t = _num(message.get("t"))
                self._publish(ControllerEvent(kind, t if t is not None else 0.0, message))
                continue
            future = self._pending.get(str(message.get("seq")))
            if future is not None and not future.done():
                future.set_result(message)
            elif not message.get("ok", True):
                log.warning("controller: %s", message.get("text", message))

    def _lost(self) -> None:
        was_up = self._up.is_set()
        self._up.clear()
        self._writer = None
        self._lost_at = self._clock()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NotConnected("the connection ended"))
        if was_up:
            self._publish(ControllerEvent("disconnected", self._controller_t(), {}))

    def _publish(self, event: ControllerEvent) -> None:
        for queue in self._subscribers:
            self._offer(queue, event)

    @staticmethod
    def _offer(queue: asyncio.Queue[ControllerEvent | None], event: ControllerEvent | None
               ) -> None:
        if queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()  # a slow subscriber loses the oldest event, not the newest
        queue.put_nowait(event)
