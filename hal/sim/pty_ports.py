"""Real pseudo-terminals standing in for the console's serial ports in the simulator.

Each configured port becomes a pty: the controller opens the slave end with pyserial exactly as
it opens ``/dev/serial0`` on a Pi. The world keeps the master ends so tests can type into them.

A person (or a test acting as one) cannot share the controller's slave end, so
:meth:`PtyPair.open_terminal` adds a virtual null-modem cable: a second pty whose slave path a
terminal program opens (``picocom``, ``screen``, pyserial), and a small thread that copies bytes
between the two master ends. It is opt-in, so the master end stays free for tests that drive it
directly.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import termios
import threading
import tty

BRIDGE_CHUNK_BYTES = 4096
BRIDGE_POLL_S = 0.05  # how often the bridge thread checks that it should stop


class PtyPair:
    """One pty; ``path`` is the slave device the controller opens."""

    def __init__(self) -> None:
        self.master_fd, self._slave_fd = pty.openpty()
        tty.setraw(self._slave_fd, termios.TCSANOW)
        self.path = os.ttyname(self._slave_fd)
        self.terminal_path: str | None = None
        self._terminal_fds: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._bridge: threading.Thread | None = None

    def open_terminal(self) -> str:
        """The slave path a terminal program opens to talk to the controller (idempotent)."""
        if self.terminal_path is not None:
            return self.terminal_path
        master, slave = pty.openpty()
        tty.setraw(slave, termios.TCSANOW)
        self._terminal_fds = (master, slave)
        for fd in (master, self.master_fd):
            os.set_blocking(fd, False)  # a full buffer drops bytes, never blocks the bridge
        self.terminal_path = os.ttyname(slave)
        self._bridge = threading.Thread(target=self._copy, args=(master,),
                                        name=f"pty-bridge {self.path}", daemon=True)
        self._bridge.start()
        return self.terminal_path

    def wait_for_input(self, timeout_s: float) -> bool:
        """Wait (real time, bounded) until bytes wait at the controller's end; True if so.

        Tests call it after typing on the terminal so the loop's virtual clock does not run
        ahead while the bridge thread carries the bytes across."""
        readable, _, _ = select.select([self._slave_fd], [], [], timeout_s)
        return bool(readable)

    def _copy(self, terminal_master: int) -> None:
        """Null-modem: bytes typed on the terminal reach the controller and back; bytes that
        find the other side's buffer full are dropped, as on a wire nobody listens to."""
        ends = {self.master_fd: terminal_master, terminal_master: self.master_fd}
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select(list(ends), [], [], BRIDGE_POLL_S)
                for fd in readable:
                    data = os.read(fd, BRIDGE_CHUNK_BYTES)
                    with contextlib.suppress(BlockingIOError):  # partly written: rest dropped
                        _, ready, _ = select.select([], [ends[fd]], [], 0)
                        if ready:
                            os.write(ends[fd], data)
            except OSError:
                # EIO: nothing has the terminal's slave open (yet, or any more); keep serving.
                self._stop.wait(BRIDGE_POLL_S)

    def close(self) -> None:
        self._stop.set()
        if self._bridge is not None:
            self._bridge.join(timeout=1.0)
        fds = [self.master_fd, self._slave_fd, *(self._terminal_fds or ())]
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
