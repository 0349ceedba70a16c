"""Log records of ``v2xctl run``: for a terminal or a file, and for the systemd journal.

On a terminal, a pipe or a file each line carries its own timestamp and level name. On the
journal (stderr connected to it: ``JOURNAL_STREAM``, see ``controller/cli/run_output.py``) the
journal stamps every line itself, so a line carries no timestamp, only its priority as the
``<N>`` prefix journald reads (sd-daemon(3): ``<3>`` error, ``<4>`` warning, ``<5>`` notice,
``<6>`` info, ``<7>`` debug); every line of a multi-line record (a traceback) carries it, so
``journalctl -p err`` shows the whole record. The levels of the controller's own events (state
changes, trips, claims, resets) are chosen in ``controller/supervisor/event_levels.py``.

The handler never raises: a failed write marks the stream broken (``OutputStream``), which the
run treats as a stop request; the event log in SQLite keeps every record regardless.
"""

from __future__ import annotations

import logging

from controller.cli.run_output import OutputStream
from controller.supervisor.event_levels import NOTICE

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(message)s"
# Python level -> syslog priority (RFC 5424 severities, as journald reads them).
SYSLOG_PRIORITY = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4),
                   (NOTICE, 5), (logging.INFO, 6))
DEBUG_PRIORITY = 7
QUIET_LIBRARIES = ("transitions",)  # their per-trigger INFO lines repeat our own state events


def syslog_priority(level: int) -> int:
    return next((prio for floor, prio in SYSLOG_PRIORITY if level >= floor), DEBUG_PRIORITY)


class JournalFormatter(logging.Formatter):
    """``<N>message``: no timestamp (journald adds its own), the priority on every line."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


class OutputHandler(logging.Handler):
    """Writes formatted records to an :class:`OutputStream`; never raises."""

    def __init__(self, out: OutputStream) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        if self.out.broken:
            return
        try:
            text = self.format(record)
        except Exception:  # a bad format string is a bug: report it, keep running
            self.handleError(record)
            return
        self.out.write_line(text)


def configure_logging(err: OutputStream, journal: bool) -> OutputHandler:
    """Route every record of the process to ``err``, in the journal's format or the plain one."""
    handler = OutputHandler(err)
    handler.setFormatter(JournalFormatter("%(message)s") if journal
                         else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
