"""Contactor supervision: the aux contact must follow the command within the timeout."""

from __future__ import annotations

from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


class ContactorFeedbackMonitor:
    """Trips when a contactor's aux contact disagrees with its command for too long."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = timeout_s
        self._since: dict[str, float] = {}

    def update(self, snap: Snapshot) -> list[Trip]:
        trips: list[Trip] = []
        for name, view in snap.contactors.items():
            if view.feedback_closed is None or view.feedback_closed == view.commanded_closed:
                self._since.pop(name, None)
                continue
            since = self._since.setdefault(name, snap.t)
            if snap.t - since > self._timeout:
                code = "CONTACTOR_FAIL_CLOSE" if view.commanded_closed else "CONTACTOR_FAIL_OPEN"
                state = "closed" if view.commanded_closed else "open"
                trips.append(Trip(code, f"{name}: commanded {state}, aux contact disagrees "
                                  f"for more than {self._timeout} s", snap.t - since,
                                  self._timeout))
        return trips
