"""What the gateway's integrations may ask of the controller: the contract they code against.

The socket client (``gateway/controller_client.py``) implements :class:`ControllerApi` over the
controller's control socket; the integrations (MQTT, planner, OCPP, the status page) depend only
on this protocol, so each can be tested against a real controller on the simulator through the
real socket, and none of them ever imports ``controller``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Requester = Literal["schedule", "grid_operator"]
Mode = Literal["idle", "charge", "v2h", "v2g", "v2l"]


@dataclass(frozen=True, slots=True)
class ControllerStatus:
    """The controller's latest status as the socket reported it (None: not measured yet)."""

    t: float  # the controller's clock, seconds
    state: str  # the mode machine's state
    mode: str  # the resolved (winning) mode
    mode_winner: str  # who won the mode: a requester name or "default"
    power_limit_w: float | None
    power_winner: str
    grid_voltage_v: float | None
    grid_frequency_hz: float | None
    grid_ok: bool
    grid_reason: str
    ev_soc_pct: float | None
    grid_power_w: float | None  # + import from the grid, - export
    home_power_w: float | None
    ev_power_w: float | None  # + charging the EV, - discharging it
    pv_power_w: float | None
    commanded_power_w: float
    faults: tuple[str, ...]
    blocked: str | None = None  # why the requested mode cannot start
    energy_import_wh: float | None = None
    energy_export_wh: float | None = None
    # The EV session's phase (docs/ev-link.md); "unplugged" or None: no EV on the connector. The
    # vehicle reports its SoC only during a CHAdeMO session, so a plugged, idle car has none.
    ev_phase: str | None = None

    @property
    def ev_plugged(self) -> bool:
        """An EV is on the connector: its session phase says so (a controller that reports no
        phase: the EV reports its SoC)."""
        if self.ev_phase is not None:
            return self.ev_phase != "unplugged"
        return self.ev_soc_pct is not None


@dataclass(frozen=True, slots=True)
class ClaimReply:
    """The controller's answer to a claim or a release: refused claims change nothing."""

    ok: bool
    text: str  # what a person would read (the refusal's reason when not ok)
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ControllerEvent:
    """One asynchronous event from the controller's event stream."""

    kind: str
    t: float
    data: dict[str, object] = field(default_factory=dict)


class ControllerApi(Protocol):
    """The controller as the gateway sees it (one connection, reconnecting by itself)."""

    @property
    def connected(self) -> bool: ...

    @property
    def status(self) -> ControllerStatus | None:
        """The latest status, None before the first one (or while disconnected too long)."""
        ...

    async def claim(self, requester: Requester, *, mode: Mode | None = None,
                    power_limit_w: float | None = None, lease_s: float) -> ClaimReply:
        """Make (replace) ``requester``'s claim; it lapses ``lease_s`` after it was made unless
        renewed. The client renews held claims by itself and re-claims after a reconnect."""
        ...

    async def release(self, requester: Requester) -> ClaimReply:
        """Withdraw ``requester``'s claim (and stop renewing it)."""
        ...

    def events(self) -> AsyncIterator[ControllerEvent]:
        """The event stream (transitions, faults, claims, expiries), from now on."""
        ...
