"""What a shutdown really did, in words: who asked, how long it took, where each contact is.

The aux contacts are read after the coils had their time to drop (``Supervisor.shutdown``
polls them for up to ``sequence.contactor_timeout_s``): a normally-closed K_GRID recloses some
milliseconds after its coil drops, so a reading taken straight after the drop would call it
"still open" and the shutdown "forced" when it was neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hal.interfaces.contactor import Contactor

SAFE_TEXT = "safe shutdown: power ramped to zero, contactors open, inverter off"


def _word(closed: bool) -> str:
    return "closed" if closed else "open"


@dataclass(frozen=True, slots=True)
class Position:
    """One contactor's aux contact against its de-energised position."""

    name: str
    normally_closed: bool
    feedback_closed: bool | None  # None: no aux contact wired, or it could not be read

    @classmethod
    def read(cls, contactor: Contactor) -> Position:
        try:
            feedback = contactor.feedback_closed
        except Exception:  # an unreadable aux contact is reported, never fatal here
            feedback = None
        return cls(contactor.name, contactor.normally_closed, feedback)

    @property
    def settled(self) -> bool:
        """In the de-energised position, or nothing to read."""
        return self.feedback_closed is None or self.feedback_closed == self.normally_closed

    def describe(self) -> str:
        if self.feedback_closed is None:
            return f"{self.name} unknown (no aux contact reading)"
        if not self.settled:
            return f"{self.name} still {_word(self.feedback_closed)}"
        if self.normally_closed:
            return f"{self.name} {_word(self.feedback_closed)} (its de-energised position)"
        return f"{self.name} {_word(self.feedback_closed)}"


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    cause: str  # who asked, e.g. "the user (SIGINT, Ctrl-C)"
    ramped: bool  # the mode machine reached a de-energised state with a safe plan in time
    ramp_s: float  # from the request to the end of the ramp-down (or its limit)
    limit_s: float
    settle_s: float  # from the coils dropping to the last aux reading
    took_s: float  # the whole shutdown
    positions: Mapping[str, Position]
    state: str  # the mode machine's state at the end
    failure: str = ""  # the loop's own error, when it kept failing

    @property
    def stuck(self) -> list[Position]:
        return [p for p in self.positions.values() if not p.settled]

    @property
    def confirmed(self) -> bool:
        return self.ramped and not self.stuck

    def details(self) -> str:
        ramp = (f"power ramped to zero and contactors opened in order in {self.ramp_s:.1f} s"
                if self.ramped else
                f"{self.failure}the ramp-down did not finish within {self.limit_s:.1f} s "
                f"(state {self.state}): every coil dropped at once, inverter off")
        contacts = ", ".join(p.describe() for p in self.positions.values())
        return (f"stop requested by {self.cause} took {self.took_s:.1f} s: {ramp}; aux "
                f"contacts {self.settle_s:.3f} s after the coils dropped: {contacts}")

    def summary(self) -> str:
        if self.confirmed:
            return SAFE_TEXT
        problems = []
        if not self.ramped:
            problems.append(f"the ramp-down did not finish (state {self.state}): outputs "
                            "dropped at once")
        stuck = self.stuck
        if stuck:
            problems.append(", ".join(p.describe() for p in stuck) + " after "
                            f"{self.settle_s:.2f} s with the coil dropped - check for a "
                            "welded contact or the aux contact wiring")
        return f"shutdown NOT confirmed after {self.took_s:.1f} s: " + "; ".join(problems)
