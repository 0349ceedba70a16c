"""The log level of each kind of controller event (the SQLite event log keeps all of them).

Everything here is logged at INFO or above, so state changes, trips, claims, resets and the
shutdown report are always in the log; the level only says how loud each is (journald reads it
as the priority: ``journalctl -p warning`` shows what needs a person).
"""

from __future__ import annotations

import logging

NOTICE = 25  # syslog's "notice": normal but significant (between INFO and WARNING)
logging.addLevelName(NOTICE, "NOTICE")

EVENT_LEVELS = {
    "trip": logging.ERROR,
    "fault": logging.ERROR,
    "warning": logging.WARNING,
    "refusal": logging.WARNING,
    "can": logging.WARNING,
    "start": NOTICE,
    "state": NOTICE,
    "request": NOTICE,  # claims, releases, expiries
    "winner": NOTICE,
    "stop": NOTICE,
    "shutdown": NOTICE,
    "reset": NOTICE,
    "retry": NOTICE,
    "service": NOTICE,
}


def event_level(kind: str) -> int:
    """The level for an event of ``kind``; INFO for kinds not listed (never below INFO)."""
    return EVENT_LEVELS.get(kind, logging.INFO)
