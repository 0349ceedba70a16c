"""One client of the control socket: budgeted non-blocking reads, lines, a bounded output.

Reads take at most ``read_budget`` bytes per tick and never wait. Complete lines (``\\n``,
an optional ``\\r`` stripped) are handed out; a line longer than ``max_line`` is dropped up to
its end and reported once as ``overlong``. Output waits in a buffer and is sent as far as the
socket accepts without blocking; a client that lets more than ``limit`` bytes pile up is not
reading, and is disconnected rather than sent a stream with holes in it. Any socket error ends
the connection (``closed`` says why); nothing here raises.
"""

from __future__ import annotations

import contextlib
import socket
from collections import deque

MAX_QUEUED_LINES = 64  # complete lines waiting for their turn; a client sending more is cut


class Connection:
    def __init__(self, sock: socket.socket, name: str, read_budget: int, max_line: int,
                 limit: int) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.name = name
        self.read_budget = read_budget
        self.max_line = max_line
        self.limit = limit
        self._partial = bytearray()
        self._skipping = False  # inside an overlong line: drop until its end
        self.lines: deque[str] = deque()
        self.overlong = 0  # overlong lines since the server last reported them
        self._out = bytearray()
        self.closed: str | None = None  # why the connection ended (None while open)
        self.bytes_in = 0
        self.lines_in = 0

    def read(self) -> None:
        """Take what arrived (up to the budget) and split it into lines."""
        if self.closed is not None or len(self.lines) >= MAX_QUEUED_LINES:
            return  # a client ahead of us waits in the kernel's buffer
        try:
            data = self.sock.recv(self.read_budget)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self.close(f"receive failed: {err}")
            return
        if not data:
            self.close("the client closed the connection")
            return
        self.bytes_in += len(data)
        self._split(data)

    def _split(self, data: bytes) -> None:
        start = 0
        while True:
            end = data.find(b"\n", start)
            chunk = data[start:] if end < 0 else data[start:end]
            if not self._skipping:
                self._partial += chunk
                if len(self._partial) > self.max_line:
                    self._partial.clear()
                    self._skipping = True
                    self.overlong += 1
            if end < 0:
                return
            if not self._skipping:
                self.lines.append(bytes(self._partial).rstrip(b"\r").decode("ascii", "replace"))
                self.lines_in += 1
            self._partial.clear()
            self._skipping = False
            start = end + 1

    def send(self, line: str) -> None:
        """Queue one line; a client that stopped reading is disconnected."""
        if self.closed is not None:
            return
        data = line.encode("ascii", "replace") + b"\n"
        if len(self._out) + len(data) > self.limit:
            self.close(f"the client does not read: more than {self.limit} bytes of output "
                       "waiting")
            return
        self._out += data

    def flush(self) -> None:
        if self.closed is not None or not self._out:
            return
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self.close(f"send failed: {err}")
            return
        del self._out[:sent]

    @property
    def queued(self) -> int:
        return len(self._out)

    def close(self, why: str) -> None:
        if self.closed is None:
            self.closed = why
        self._out.clear()
        self.lines.clear()
        with contextlib.suppress(OSError):
            self.sock.close()
