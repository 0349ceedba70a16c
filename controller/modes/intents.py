"""What one step of the mode machine asks of the supervisor, as values.

The machine never calls back into the supervisor while it is transitioning: its callbacks note
what should happen (a transition to record, a fault to latch, a requester's claim to release)
and the supervisor acts on the :class:`Intents` after the step, in order: faults through the
one trip path, records through the recorder, releases through the arbiter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One move of the machine, as the event log and the scenario report show it."""

    t: float
    source: str
    dest: str
    trigger: str
    reason: str


@dataclass(frozen=True, slots=True)
class FaultIntent:
    """A fault the sequence itself found (a weld, a precharge timeout, an error in a callback)."""

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """The machine stopped ``mode`` for a reason its requester must see (not a fault): the claim
    that asked for it is released, so the mode does not restart by itself."""

    mode: str
    reason: str


@dataclass(frozen=True, slots=True)
class Intents:
    transitions: tuple[TransitionRecord, ...] = ()
    faults: tuple[FaultIntent, ...] = ()
    refusals: tuple[Refusal, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.transitions or self.faults or self.refusals)


NO_INTENTS = Intents()
