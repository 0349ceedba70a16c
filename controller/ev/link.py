"""The narrow interface between an EV protocol's session and the rest of the controller.

The mode machine, the loop and the dispatcher see an EV session only through :class:`EvLink`,
so a second protocol (ISO 15118-20) can be added beside ``controller/ev/chademo/`` without
touching them. Every marked hook line in the core names it (``# EV link``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from controller.modes.states import LATCHED, State
from hal.protocols.ev_messages import EvReport


class Stage(Enum):
    """Where the mode machine is, as the EV session needs to know it."""

    DE_ENERGISED = "de-energised"  # idle, ev_connected, selftest, service test
    STARTING = "starting"  # weld check, insulation test
    EV_CLOSE = "ev-close"  # past the insulation test: d2, the vehicle closes its contactors
    ENERGISED = "energised"
    STOPPING = "stopping"
    LATCHED = "latched"  # fault or estop


def stage_of(state: State) -> Stage:
    """The stage of ``state`` (computed once per state into :data:`STAGES`, read every tick)."""
    if state in LATCHED:
        return Stage.LATCHED
    name = state.value
    if name.startswith("starting"):
        return Stage.STARTING if state in (State.STARTING_WELD_CHECK,
                                           State.STARTING_INSULATION_TEST) else Stage.EV_CLOSE
    if name.startswith(("energised", "backup")):
        return Stage.ENERGISED
    if name.startswith("stopping"):
        return Stage.STOPPING
    return Stage.DE_ENERGISED


STAGES: dict[State, Stage] = {state: stage_of(state) for state in State}


@dataclass(frozen=True, slots=True)
class HostView:
    """What the session reads each tick (from the snapshot and the machine)."""

    now: float
    proximity: bool
    permission: bool  # the vehicle charge permission input (CHAdeMO switch k)
    locked: bool  # the connector lock feedback input
    report: EvReport | None  # the vehicle's newest complete report (frames not stale)
    frames_age_s: float  # since the vehicle's last valid 0x102
    output_v: float | None  # the charger's output at the connector (ev_inlet_v)
    current_a: float | None  # DC current, + into the vehicle
    wants_energy: bool
    discharge_wanted: bool  # the request is a discharge (v2h, v2g, v2l)
    stage: Stage


@dataclass(frozen=True, slots=True)
class EvTrip:
    code: str
    detail: str


class EvLink(Protocol):
    """One EV protocol's charger side, stepped once per control tick."""

    @property
    def phase(self) -> str: ...

    @property
    def startable(self) -> bool:
        """The vehicle is ready for the charger's start sequence (locked, permitted)."""

    @property
    def transfer_allowed(self) -> bool:
        """Power may flow (or keep flowing): no stop from either side is under way."""

    @property
    def contactors_closed_at(self) -> float | None:
        """When the vehicle's contactors were seen closed (None: open)."""

    @property
    def in_session(self) -> bool:
        """A session is under way (d1 on): the vehicle's silence is not yet a refusal."""

    @property
    def ending(self) -> str | None:
        """Why the session is ending or ended, in words (None: it is not)."""

    @property
    def plug_soc_pct(self) -> float | None:
        """The SoC the vehicle last reported since it was plugged in (None: none yet)."""

    def blocked_reason(self) -> str | None:
        """Why a start is refused by the session itself (an ended session), else None."""

    def step(self, view: HostView) -> list[EvTrip]:
        """Advance the session; returns the faults it detected this tick."""

    def dispatch_report(self, report: EvReport | None) -> EvReport | None:
        """The vehicle's report as the dispatcher may use it (zero current while stopping)."""

    def take_ending(self) -> str | None:
        """A session that ended since the last call: why, in words (once)."""

    def write(self, now: float) -> None:
        """Drive the sequence signals and send this cycle's frames."""
