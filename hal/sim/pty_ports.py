"""Real pseudo-terminals standing in for the console's serial ports in the simulator.

Each configured port becomes a pty: the controller opens the slave end with pyserial exactly as
it opens ``/dev/serial0`` on a Pi, and anyone can attach to the printed path with ``picocom`` or
``screen``. The world keeps the master ends so tests can type into them.
"""

from __future__ import annotations

import contextlib
import os
import pty
import termios
import tty


class PtyPair:
    """One pty; ``path`` is the slave device a terminal program (or the controller) opens."""

    def __init__(self) -> None:
        self.master_fd, self._slave_fd = pty.openpty()
        tty.setraw(self._slave_fd, termios.TCSANOW)
        self.path = os.ttyname(self._slave_fd)

    def close(self) -> None:
        for fd in (self.master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
