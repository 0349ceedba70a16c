"""Contactor supervision: the aux contact must follow the command, and stay where it was put.

- commanded closed, aux open for longer than the timeout after the command: CONTACTOR_FAIL_CLOSE;
- commanded open, aux closed for longer than the timeout: CONTACTOR_FAIL_OPEN (welded contacts:
  a technician-only fault);
- a *confirmed* contact (its aux agreed with the command at ``CONFIRM_READS`` consecutive reads)
  that then reads the other way with no new command: CONTACTOR_FEEDBACK at the first read that
  sees it, an emergency. Closed -> open: the contacts dropped out (coil supply or coil circuit
  lost) or the aux wiring broke. Open -> closed: a normally-closed contactor's coil lost its
  supply (K_GRID reclosing under a grid-forming inverter), a driver failed on, or the aux is
  shorted. No timeout applies: the hazard (forming into the utility line, an out-of-phase
  closure, power through an unplanned path) exists from the moment the contacts move.

Bounce: an aux contact bounces for a few milliseconds when its contactor *moves*; a contactor
moves by itself only when something failed. A contact counts as confirmed only after two reads
one control tick apart (20 ms at the default tick) both agreed with the command, which is
several times the bounce of a commanded operation, so the bounce of a commanded operation never
reaches the one-read trip (it falls under the timeout instead). After confirmation no debounce
is applied: detection is the first tick that reads the change, at most one tick after the
contacts moved, and that tick commands everything safe.
"""

from __future__ import annotations

from typing import Final

from controller.protection.monitor import QUIET, Finding, ProtectionInput
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode

CONFIRM_READS: Final = 2  # consecutive agreeing reads (one tick apart) that confirm a contact


class ContactorFeedbackMonitor:
    """Trips when a contactor's aux contact disagrees with its command for too long, or at once
    when a confirmed contact changes with no command."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._since: dict[str, float] = {}
        self._agreeing: dict[str, int] = {}  # name -> consecutive reads agreeing with the command
        self._command: dict[str, bool] = {}

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        trips: list[Trip] = []
        for name, view in snap.contactors.items():
            if self._command.get(name) != view.commanded_closed:
                self._command[name] = view.commanded_closed
                self._agreeing[name] = 0
            if view.feedback_closed is None or view.feedback_closed == view.commanded_closed:
                self._since.pop(name, None)
                if view.feedback_closed is not None:
                    self._agreeing[name] = self._agreeing.get(name, 0) + 1
                continue
            if self._agreeing.get(name, 0) >= CONFIRM_READS:
                trips.append(self._uncommanded(name, view.commanded_closed))
                continue
            self._agreeing[name] = 0
            since = self._since.setdefault(name, snap.t)
            lasted = snap.t - since
            if lasted <= self._timeout:
                continue
            state = "closed" if view.commanded_closed else "open"
            code = (FaultCode.CONTACTOR_FAIL_CLOSE if view.commanded_closed
                    else FaultCode.CONTACTOR_FAIL_OPEN)
            trips.append(Trip(code, f"{name}: commanded {state}, aux contact disagrees "
                              f"for more than {self._timeout} s", lasted, self._timeout))
        return Finding(tuple(trips)) if trips else QUIET

    @staticmethod
    def _uncommanded(name: str, commanded_closed: bool) -> Trip:
        if commanded_closed:
            why = ("confirmed closed, then the aux contact read open with no command (contacts "
                   "dropped out: coil supply or coil circuit lost; or the aux wiring is broken)")
        else:
            why = ("confirmed open, then the aux contact read closed with no command (coil "
                   "supply lost on a normally-closed contactor, a driver failed on, or the aux "
                   "wiring is shorted)")
        return Trip(FaultCode.CONTACTOR_FEEDBACK, f"{name}: {why}")
