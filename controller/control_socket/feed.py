"""What the event stream carries: records the supervisor kept since the last tick.

Each tick the server asks for the transitions and arbitration records (claims, refusals,
releases, expiries) added since it last looked, and for the state summary when it changed.
The supervisor's in-memory logs are trimmed from the front only, so the newest record seen is
found again by identity; it is never copied or scanned in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controller.dispatch.arbitration import ArbitrationRecord
from controller.modes.machine import TransitionRecord
from controller.supervisor.loop import Supervisor

Event = tuple[str, dict[str, Any]]


def _new_since(records: Sequence[object], last: object | None) -> list[object]:
    """The records after ``last`` (all of them when ``last`` is no longer there)."""
    if not records or records[-1] is last:
        return []
    found = []
    for record in reversed(records):
        if record is last:
            break
        found.append(record)
    found.reverse()
    return found


class EventFeed:
    def __init__(self, supervisor: Supervisor) -> None:
        self._sup = supervisor
        self._last_transition: object | None = supervisor.transitions[-1] \
            if supervisor.transitions else None
        self._last_request: object | None = supervisor.request_log[-1] \
            if supervisor.request_log else None
        self.state: dict[str, Any] = {}

    def poll(self, with_state: bool = True) -> list[Event]:
        """Events since the last poll, oldest first; the state summary is kept in ``state``
        (computed only ``with_state``: nobody listening needs it)."""
        sup = self._sup
        events: list[Event] = []
        for record in _new_since(sup.transitions, self._last_transition):
            assert isinstance(record, TransitionRecord)
            events.append(("transition", {"t": record.t, "source": record.source,
                                          "dest": record.dest, "trigger": record.trigger,
                                          "reason": record.reason}))
            self._last_transition = record
        for record in _new_since(sup.request_log, self._last_request):
            assert isinstance(record, ArbitrationRecord)
            events.append(("request", {"t": record.t, "kind": record.kind,
                                       "requester": record.source, "mode": record.mode,
                                       "power_w": record.power_w, "lease_s": record.lease_s,
                                       "accepted": record.accepted, "reason": record.reason,
                                       "text": record.describe()}))
            self._last_request = record
        if not with_state:
            return events
        st = sup.status()
        self.state = {"t": st.t, "state": st.state, "mode": st.request,
                      "mode_source": st.request_source, "power_limit_w": st.power_limit_w,
                      "power_winner": st.power_winner, "faults": list(st.faults)}
        return events
