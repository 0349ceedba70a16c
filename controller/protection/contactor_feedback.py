"""Contactor supervision: the aux contact must follow the command within the timeout.

- commanded closed, aux open for longer than the timeout after the command: CONTACTOR_FAIL_CLOSE;
- commanded open, aux closed for longer than the timeout: CONTACTOR_FAIL_OPEN (welded contacts:
  a technician-only fault);
- commanded closed, confirmed closed, then the aux reads open with no new command: the contacts
  dropped out (coil supply lost) or the feedback was lost: CONTACTOR_FEEDBACK.
"""

from __future__ import annotations

from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


class ContactorFeedbackMonitor:
    """Trips when a contactor's aux contact disagrees with its command for too long."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._since: dict[str, float] = {}
        self._confirmed: dict[str, bool] = {}  # name -> the command it last confirmed
        self._command: dict[str, bool] = {}

    def update(self, snap: Snapshot) -> list[Trip]:
        trips: list[Trip] = []
        for name, view in snap.contactors.items():
            if self._command.get(name) != view.commanded_closed:
                self._command[name] = view.commanded_closed
                self._confirmed.pop(name, None)
            if view.feedback_closed is None or view.feedback_closed == view.commanded_closed:
                self._since.pop(name, None)
                if view.feedback_closed is not None:
                    self._confirmed[name] = view.commanded_closed
                continue
            since = self._since.setdefault(name, snap.t)
            lasted = snap.t - since
            if lasted <= self._timeout:
                continue
            state = "closed" if view.commanded_closed else "open"
            if view.commanded_closed and self._confirmed.get(name) is True:
                trips.append(Trip("CONTACTOR_FEEDBACK", f"{name}: confirmed closed, then the aux "
                                  f"contact read open for {lasted:.2f} s with no command "
                                  "(contacts dropped out, or the aux wiring is broken)", lasted,
                                  self._timeout))
                continue
            code = "CONTACTOR_FAIL_CLOSE" if view.commanded_closed else "CONTACTOR_FAIL_OPEN"
            trips.append(Trip(code, f"{name}: commanded {state}, aux contact disagrees "
                              f"for more than {self._timeout} s", lasted, self._timeout))
        return trips
