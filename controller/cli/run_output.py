"""Where ``v2xctl run`` writes, and how a closed output becomes a safe stop, never a crash.

A reader can go away at any moment: ``v2xctl run | head -5`` closes the pipe after five lines,
Ctrl-C on ``v2xctl run | tee log`` kills tee together with the controller, an SSH session hangs
up. Python then raises ``BrokenPipeError`` (or ``OSError`` EIO) from ``print``; raised inside the
control loop's callback it would skip the ramp-down and drop the contactors under load. An
:class:`OutputStream` never raises: the first failed write marks it broken (the run treats that
as a stop request and ramps down) and points the file descriptor at ``/dev/null``, so nothing
written later, including the interpreter's flush at exit, can fail again.

systemd: ``JOURNAL_STREAM`` holds the device and inode of the journal stream a unit's stdout
or stderr is connected to (systemd.exec(5)); a stream is "the journal" only when its own
``fstat`` matches, so a child process with redirected output is not mistaken for it.
``INVOCATION_ID`` is set for every unit: with stdout a regular file, a unit's status lines go
to a file on the SD card, which is paced like the journal.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import shutil
import stat
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from controller.values.status import Status

JOURNAL_STREAM = "JOURNAL_STREAM"
INVOCATION_ID = "INVOCATION_ID"
CLOSED_EVENTS = select.POLLERR | select.POLLHUP | select.POLLNVAL

log = logging.getLogger("v2x.run")


def _fstat(stream: TextIO) -> os.stat_result | None:
    try:
        return os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None


def is_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """``stream`` is connected to the systemd journal (``JOURNAL_STREAM`` names this fd)."""
    device, _, inode = environ.get(JOURNAL_STREAM, "").partition(":")
    info = _fstat(stream)
    if info is None or not device.isdigit() or not inode.isdigit():
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def paced_like_the_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Status lines here are stored for good: the journal, or a unit's output file."""
    if is_journal(stream, environ):
        return True
    info = _fstat(stream)
    return (INVOCATION_ID in environ and info is not None and stat.S_ISREG(info.st_mode)
            and not is_terminal(stream))


class OutputStream:
    """A text stream whose writes never raise; ``broken`` says the reader went away."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name  # "stdout" or "stderr", for the stop reason
        self.broken = False
        self.error = ""

    def write_line(self, text: str) -> bool:
        """Write one line and flush; False (and ``broken``) once the stream failed."""
        if self.broken:
            return False
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError) as err:  # EPIPE, EIO (hang-up), a closed file object
            self.mark_broken(err)
            return False
        return True

    def mark_broken(self, err: BaseException) -> None:
        if self.broken:
            return
        self.broken = True
        self.error = (err.strerror if isinstance(err, OSError) and err.strerror
                      else str(err)) or type(err).__name__
        try:  # whatever is still buffered, and every later write, goes to /dev/null
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def check(self) -> bool:
        """Notice a reader that went away while nothing was written (a pipe's write end
        reports POLLERR once its reader closed, a terminal POLLHUP on hang-up); False once
        broken. Never blocks."""
        if self.broken:
            return False
        try:
            poller = select.poll()
            poller.register(self.stream.fileno(), select.POLLOUT)
            events = poller.poll(0)
        except (OSError, ValueError) as err:
            self.mark_broken(err)
            return False
        if any(mask & CLOSED_EVENTS for _fd, mask in events):
            self.mark_broken(BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE)))
            return False
        return True

    @property
    def stop_reason(self) -> str:
        return f"{self.name} closed, its reader went away: {self.error}"


class GuardedCallback:
    """Runs the run's own per-tick work (status, console, sd_notify) so that a bug there can
    never raise into the control loop (which would skip the ramp-down): the first exception is
    logged, recorded in ``failure`` (the run stops safely on it) and the callback stops."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self._callback = callback
        self.failure = ""

    def __call__(self, sup: Any) -> None:
        if self.failure:
            return
        try:
            self._callback(sup)
        except Exception as err:
            self.failure = f"{type(err).__name__}: {err}"
            log.exception("v2xctl run: its per-tick output failed; stopping safely")


class StatusPrinter:
    """Prints the status line every ``interval_s`` of loop time; on a terminal narrower than
    the full line, the compact form (terminal width read at each line: resizes count)."""

    def __init__(self, out: OutputStream, interval_s: float, start: float,
                 width: Callable[[], int | None] | None = None) -> None:
        self.out = out
        self.interval_s = interval_s
        self.next_t = start
        self._width = width if width is not None else self._terminal_width

    def _terminal_width(self) -> int | None:
        if not is_terminal(self.out.stream):
            return None  # a pipe, a file, the journal: the full line
        return shutil.get_terminal_size().columns

    def due(self, now: float) -> bool:
        return now >= self.next_t

    def print_now(self) -> None:
        """The next call of :meth:`maybe_print` prints (a change the reader must see now)."""
        self.next_t = float("-inf")

    def maybe_print(self, now: float, status: Callable[[], Status]) -> str | None:
        """The line printed (or None when not due); the next one is due one interval on."""
        if not self.due(now):
            return None
        self.next_t += self.interval_s  # on a fixed grid: t = 0, 1, 2 ... s
        if self.next_t <= now:  # behind the grid (or asked to print now): one interval on
            self.next_t = now + self.interval_s
        line = status().line(self._width())
        self.out.write_line(line)
        return line
