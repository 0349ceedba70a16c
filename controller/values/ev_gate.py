"""What the EV session tells the mode machine each tick, as one frozen value.

The EV link (``controller/ev/``) is stepped once per tick before the machine's step; the guards
(``controller/modes/guards.py``) read this value from the tick's context, never the session.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EvGate:
    """The EV session's answers for this tick (``controller/ev/link.py`` names each)."""

    phase: str  # the session's phase (docs/ev-link.md)
    startable: bool  # locked and permitted: the start sequence may begin
    transfer_allowed: bool  # no stop from either side under way
    contactors_closed: bool  # the vehicle's contactors are closed (after d2)
    in_session: bool  # d1 on: the vehicle's silence is not yet a refusal
    blocked: str | None  # why the session itself refuses a start (an ended session)
