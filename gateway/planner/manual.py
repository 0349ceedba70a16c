"""The owner's manual choice from Home Assistant against the planner: both claim as ``schedule``.

The gateway holds one claim per requester, so a manual mode (or a power limit) set from Home
Assistant and the planner's step would overwrite each other. The owner wins: while a manual
choice stands, the planner keeps planning (its plan and savings stay visible) but claims
nothing and releases nothing. The suspension ends when the owner chooses ``auto`` or, with a
hold time, that long after the last manual change; then the planner sets the preferences back
to auto (Home Assistant shows it) and claims its current step again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.preferences import Preferences


@dataclass(frozen=True, slots=True)
class HoldState:
    suspended: bool
    text: str  # what the owner reads on MQTT and the status page
    ended: bool = False  # the hold just ended: the planner must claim again


class ManualHold:
    """Tracks the owner's manual wish and the hold it puts on the planner."""

    def __init__(self, hold_s: float | None) -> None:
        self.hold_s = hold_s  # None: until the owner chooses auto
        self._wish: tuple[str | None, float | None] = (None, None)
        self._since: dt.datetime | None = None

    def observe(self, prefs: Preferences, now: dt.datetime) -> HoldState:
        wish = (prefs.manual_mode, prefs.power_limit_w)
        was_active = self._wish != (None, None)
        if wish != self._wish:
            self._wish, self._since = wish, now
        if wish == (None, None):
            return HoldState(False, "planning", ended=was_active)
        since = self._since or now
        if self.hold_s is not None and (now - since).total_seconds() >= self.hold_s:
            prefs.manual_mode, prefs.power_limit_w = None, None
            self._wish = (None, None)
            return HoldState(False, "planning (the manual hold ended)", ended=True)
        what = wish[0] or "limit"
        if wish[1] is not None:
            what += f" {wish[1] / 1000.0:g} kW"
        if self.hold_s is None:
            return HoldState(True, f"suspended: manual {what} until the owner chooses auto")
        until = since + dt.timedelta(seconds=self.hold_s)
        stamp = until.isoformat(timespec="minutes")
        return HoldState(True, f"suspended: manual {what} until {stamp}")
