"""Home Assistant commands to leased claims: validate, decide, claim; refusals with a reason.

A command that is malformed or out of range is refused and changes nothing (neither the
preferences nor any claim). Mode and power become one ``schedule`` claim with the configured
lease (the controller client renews it while the gateway runs); ``auto`` releases it, limit
and all (a power limit set while in auto is a claim of that limit alone). The
gateway's own automation stops a manual charge at the target SoC and a manual discharge at
its reserve SoC (the controller's reserve still applies below that).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gateway.api import ControllerApi, Mode, Requester
from gateway.ha_discovery import MAX_POWER_KW, MODES_SELECTABLE
from gateway.preferences import Preferences

REQUESTER: Requester = "schedule"
DEPARTURE = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d)?$")
MAX_PAYLOAD = 64
DISCHARGING = ("v2h", "v2g", "v2l")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    reason: str


def _number(payload: str, what: str, low: float, high: float, unit: str) -> float | str:
    try:
        value = float(payload)
    except ValueError:
        return f"{what} {payload[:16]!r}: must be a number"
    if not math.isfinite(value):
        return f"{what} {payload[:16]}: must be a finite number"
    if not low <= value <= high:
        return f"{what} {payload[:16]}: must be from {low:g} to {high:g} {unit}"
    return value


def _switch(payload: str, what: str) -> bool | str:
    word = payload.strip().upper()
    if word not in ("ON", "OFF"):
        return f"{what} {payload[:16]!r}: must be ON or OFF"
    return word == "ON"


class HomeAssistantCommands:
    def __init__(self, api: ControllerApi, prefs: Preferences, lease_s: float) -> None:
        self.api = api
        self.prefs = prefs
        self.lease_s = lease_s

    async def handle(self, name: str, raw: bytes) -> Outcome:
        if len(raw) > MAX_PAYLOAD:
            return Outcome(False, f"payload longer than {MAX_PAYLOAD} bytes")
        try:
            payload = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return Outcome(False, "payload is not UTF-8 text")
        handler = {"mode": self._mode, "power_limit_kw": self._power, "stop": self._stop,
                   "reserve_soc": self._reserve, "target_soc": self._target,
                   "departure": self._departure, "backup_allowed": self._backup,
                   "v2g_allowed": self._v2g}.get(name)
        if handler is None:
            return Outcome(False, f"unknown command {name[:32]!r}")
        return await handler(payload)

    async def _apply(self, mode: str | None, power_w: float | None) -> Outcome:
        """Make the manual claim (or release it for auto without a limit); prefs change only
        when the controller accepted."""
        if mode is None and power_w is None:
            reply = await self.api.release(REQUESTER)
            if reply.ok or "no schedule claim" in reply.text:
                self.prefs.manual_mode, self.prefs.power_limit_w = None, None
                return Outcome(True, "auto: no manual claim")
            return Outcome(False, reply.text)
        claim_mode: Mode | None = mode  # type: ignore[assignment]
        claimed = await self.api.claim(REQUESTER, mode=claim_mode, power_limit_w=power_w,
                                       lease_s=self.lease_s)
        if not claimed.ok:
            return Outcome(False, claimed.text)
        self.prefs.manual_mode, self.prefs.power_limit_w = mode, power_w
        return Outcome(True, claimed.text)

    async def _mode(self, payload: str) -> Outcome:
        mode = payload.lower()
        if mode not in MODES_SELECTABLE:
            return Outcome(False, f"mode {payload[:16]!r}: must be one of "
                           f"{', '.join(MODES_SELECTABLE)}")
        if mode == "v2g" and not self.prefs.v2g_allowed:
            return Outcome(False, "v2g is not allowed (turn on 'V2G allowed' first)")
        if mode == "auto":  # no manual wish at all: the claim (and its limit) is released
            return await self._apply(None, None)
        return await self._apply(mode, self.prefs.power_limit_w)

    async def _power(self, payload: str) -> Outcome:
        kw = _number(payload, "power limit", 0.0, MAX_POWER_KW, "kW")
        if isinstance(kw, str):
            return Outcome(False, kw)
        return await self._apply(self.prefs.manual_mode, kw * 1000.0)

    async def _stop(self, payload: str) -> Outcome:
        return await self._apply("idle", self.prefs.power_limit_w)

    async def _reserve(self, payload: str) -> Outcome:
        value = _number(payload, "reserve SoC", 0.0, 100.0, "%")
        if isinstance(value, str):
            return Outcome(False, value)
        self.prefs.reserve_soc_pct = value
        return Outcome(True, f"reserve SoC {value:g} %")

    async def _target(self, payload: str) -> Outcome:
        value = _number(payload, "target SoC", 0.0, 100.0, "%")
        if isinstance(value, str):
            return Outcome(False, value)
        self.prefs.target_soc_pct = value
        return Outcome(True, f"target SoC {value:g} %")

    async def _departure(self, payload: str) -> Outcome:
        if not DEPARTURE.match(payload):
            return Outcome(False, f"departure {payload[:16]!r}: must be HH:MM (24 h) or empty")
        self.prefs.departure = payload
        return Outcome(True, f"departure {payload or 'none'}")

    async def _backup(self, payload: str) -> Outcome:
        value = _switch(payload, "backup allowed")
        if isinstance(value, str):
            return Outcome(False, value)
        self.prefs.backup_allowed = value
        return Outcome(True, f"backup allowed {'on' if value else 'off'}")

    async def _v2g(self, payload: str) -> Outcome:
        value = _switch(payload, "v2g allowed")
        if isinstance(value, str):
            return Outcome(False, value)
        self.prefs.v2g_allowed = value
        if not value and self.prefs.manual_mode == "v2g":
            stopped = await self._apply("idle", self.prefs.power_limit_w)
            return Outcome(stopped.ok, "v2g allowed off: the manual v2g claim is now idle"
                           if stopped.ok else stopped.reason)
        return Outcome(True, f"v2g allowed {'on' if value else 'off'}")

    async def automation(self) -> str | None:
        """Stop a manual charge at the target SoC, a manual discharge at the reserve; the
        reason when it did."""
        st = self.api.status
        mode = self.prefs.manual_mode
        if st is None or st.ev_soc_pct is None or mode is None:
            return None
        if mode == "charge" and st.ev_soc_pct >= self.prefs.target_soc_pct:
            why = f"target SoC {self.prefs.target_soc_pct:g} % reached"
        elif mode in DISCHARGING and st.ev_soc_pct <= self.prefs.reserve_soc_pct:
            why = f"reserve SoC {self.prefs.reserve_soc_pct:g} % reached"
        else:
            return None
        done = await self._apply("idle", self.prefs.power_limit_w)
        return why if done.ok else None
