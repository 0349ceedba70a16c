"""The local status page: one HTML page (state, power flows, faults, last events, the last hour
as an SVG plot) and the same as JSON, served with the standard library on localhost.

GET ``/`` is the page (it reloads itself every 10 s), GET ``/status.json`` the data; anything
else is 404, and only GET and HEAD are answered. No framework, no script, nothing to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from gateway.api import ControllerApi, ControllerEvent
from gateway.preferences import Preferences
from gateway.settings import StatusPageSettings

log = logging.getLogger("v2x.gateway.status_page")

SAMPLE_S = 10.0
EVENTS_KEPT = 20
MAX_REQUEST_BYTES = 8192
SERIES = (("grid_power_w", "#1f77b4"), ("home_power_w", "#2ca02c"), ("ev_power_w", "#d62728"),
          ("pv_power_w", "#ff7f0e"))
PLOT_W, PLOT_H = 720, 240


class StatusPage:
    """A :class:`gateway.host.Service` serving the page on ``settings.host:settings.port``."""

    name = "status_page"

    def __init__(self, settings: StatusPageSettings, prefs: Preferences,
                 clock: Callable[[], float] = time.monotonic, sample_s: float = SAMPLE_S) -> None:
        self.settings = settings
        self.sample_s = sample_s
        self.prefs = prefs
        self._clock = clock
        self.samples: deque[tuple[float, dict[str, float | None]]] = deque(
            maxlen=int(settings.history_s / sample_s) + 1)
        self.events: deque[ControllerEvent] = deque(maxlen=EVENTS_KEPT)
        self.port: int | None = None  # the port bound (settings.port 0: chosen by the system)
        self._api: ControllerApi | None = None

    async def run(self, api: ControllerApi) -> None:
        self._api = api
        server = await asyncio.start_server(self._serve, self.settings.host, self.settings.port)
        self.port = server.sockets[0].getsockname()[1]
        log.info("status page on http://%s:%d/", self.settings.host, self.port)
        loop = asyncio.get_running_loop()
        listener = loop.create_task(self._listen(api))
        try:
            async with server:
                while True:
                    st = api.status
                    if st is not None:
                        self.samples.append((self._clock(), {k: getattr(st, k)
                                                             for k, _ in SERIES}))
                    await asyncio.sleep(self.sample_s)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, api: ControllerApi) -> None:
        """Keep the last events, without state summaries and without renewals (an accepted
        claim equal to the requester's previous one)."""
        held: dict[object, tuple[object, ...]] = {}
        async for event in api.events():
            if event.kind == "state":
                continue
            if event.kind == "request" and event.data.get("kind") == "claim" \
                    and event.data.get("accepted"):
                what = tuple(event.data.get(k) for k in ("mode", "power_w", "lease_s"))
                if held.get(event.data.get("requester")) == what:
                    continue
                held[event.data.get("requester")] = what
            self.events.append(event)

    # ----- HTTP --------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
            method, path, *_ = head[:MAX_REQUEST_BYTES].decode("latin-1").split(" ", 2)
            if method not in ("GET", "HEAD"):
                status, ctype, body = "405 Method Not Allowed", "text/plain", b"GET only\n"
            elif path == "/":
                status, ctype, body = "200 OK", "text/html; charset=utf-8", self.page().encode()
            elif path == "/status.json":
                status, ctype = "200 OK", "application/json"
                body = json.dumps(self.data(), sort_keys=True).encode()
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: "
                         f"{len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n"
                         "X-Content-Type-Options: nosniff\r\n"
                         "Content-Security-Policy: default-src 'none'; style-src "
                         "'unsafe-inline'\r\n\r\n".encode())
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def data(self) -> dict[str, Any]:
        api = self._api
        st = api.status if api is not None else None
        return {"connected": bool(api and api.connected),
                "status": None if st is None else {k: getattr(st, k) for k in st.__slots__},
                "preferences": self.prefs.as_dict(),
                "events": [{**e.data, "event": e.kind, "t": e.t} for e in self.events],
                "history": [{"age_s": round(self._clock() - t, 1), **v} for t, v in self.samples]}

    def page(self) -> str:
        d = self.data()
        st = d["status"] or {}
        esc = html.escape

        def kw(key: str) -> str:
            value = st.get(key)
            return "--" if value is None else f"{value / 1000.0:+.2f} kW"

        rows = "".join(f"<tr><td>{esc(name)}</td><td>{esc(kw(key))}</td></tr>" for name, key in (
            ("grid", "grid_power_w"), ("home", "home_power_w"), ("EV", "ev_power_w"),
            ("PV", "pv_power_w")))
        events = "".join(f"<li>t={e['t']:.1f} s {esc(e['event'])}: "
                         f"{esc(str(e.get('text') or e.get('dest') or e.get('reason') or ''))}"
                         "</li>" for e in reversed(d["events"]))
        faults = ", ".join(st.get("faults") or ()) or "none"
        soc = st.get("ev_soc_pct")
        return (
            "<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' "
            "content='10'><title>V2X charger</title><style>body{font-family:sans-serif;"
            "margin:1em}td{padding:0 1em 0 0}</style></head><body><h1>V2X charger</h1>"
            f"<p>Controller {'connected' if d['connected'] else '<b>not connected</b>'}; "
            f"state <b id='state'>{esc(str(st.get('state', '--')))}</b>, mode "
            f"{esc(str(st.get('mode', '--')))} (won by {esc(str(st.get('mode_winner', '--')))})"
            f"; EV {'--' if soc is None else f'{soc:.0f} %'}</p>"
            f"<p>Faults: <b id='faults'>{esc(faults)}</b></p><table>{rows}</table>"
            f"{self.plan_html()}"
            f"<h2>Last hour</h2>{self.plot()}<h2>Last events</h2><ul>{events}</ul>"
            "</body></html>")

    def plan_html(self) -> str:
        """The planner's status and its latest plan (nothing when the planner is off)."""
        plan, status = self.prefs.plan, self.prefs.planner_status
        if not plan and status == "off":
            return ""
        esc = html.escape
        text = (f"now {plan.get('mode')} {plan.get('power_kw')} kW; energy cost "
                f"{plan.get('energy_cost')}, wear {plan.get('wear_cost')}, saves "
                f"{plan.get('savings')} against charging on arrival (made "
                f"{plan.get('made_at')}: {plan.get('reason')})" if plan else "no plan")
        notes = "".join(f"<li>{esc(str(n))}</li>" for n in plan.get("notes", ()))
        return (f"<h2>Plan</h2><p>Planner: <b id='planner'>{esc(status)}</b></p>"
                f"<p id='plan'>{esc(text)}</p><ul>{notes}</ul>")

    def plot(self) -> str:
        """An SVG of the power series over ``history_s`` (newest on the right)."""
        span = self.settings.history_s
        now = self._clock()
        values = [v for _, s in self.samples for v in s.values() if v is not None]
        top = max([1000.0, *(abs(v) for v in values)])
        lines = []
        for key, colour in SERIES:
            points = " ".join(
                f"{PLOT_W * (1 - (now - t) / span):.1f},"
                f"{PLOT_H / 2 * (1 - (s[key] or 0.0) / top):.1f}"
                for t, s in self.samples if s.get(key) is not None and now - t <= span)
            if points:
                lines.append(f"<polyline fill='none' stroke='{colour}' points='{points}'/>")
        legend = " ".join(f"<tspan fill='{c}'>{k}</tspan>" for k, c in SERIES)
        return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{PLOT_W}' height='{PLOT_H}' "
                f"viewBox='0 0 {PLOT_W} {PLOT_H}'><rect width='100%' height='100%' "
                f"fill='#fafafa'/><line x1='0' y1='{PLOT_H / 2}' x2='{PLOT_W}' "
                f"y2='{PLOT_H / 2}' stroke='#999'/>{''.join(lines)}<text x='4' y='14' "
                f"font-size='12'>±{top / 1000:.1f} kW: {legend}</text></svg>")
