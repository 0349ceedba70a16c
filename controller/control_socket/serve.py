"""Starting the control socket from ``v2xctl run`` (and where the simulator puts it)."""

from __future__ import annotations

import os
import tempfile

from controller.control_socket.lock import SocketBusy, SocketLock, acquire
from controller.control_socket.server import ControlSocketServer, in_use
from controller.supervisor.loop import Supervisor

SOCKET_NAME = "control.sock"


def claim_simulator_socket(base: str | None = None) -> SocketLock:
    """The built-in simulator's socket path, its lock already held (so the path chosen is this
    process's until the server releases it): ``control.sock`` in a directory of this user's own
    under the temporary directory (``./dev gateway`` looks there), created 0700; when another
    process holds that one, ``control-PID.sock`` beside it (printed at start-up)."""
    if base is None:
        base = os.path.join(tempfile.gettempdir(), f"v2x-controller-{os.getuid()}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    try:
        lock = acquire(os.path.join(base, SOCKET_NAME))
    except SocketBusy:
        return acquire(os.path.join(base, f"control-{os.getpid()}.sock"))
    if os.path.exists(lock.path) and in_use(lock.path):  # served without a lock: an older one
        lock.release()
        return acquire(os.path.join(base, f"control-{os.getpid()}.sock"))
    return lock


def start_control_socket(supervisor: Supervisor, lock: SocketLock | None = None,
                         ) -> tuple[ControlSocketServer | None, list[str]]:
    """The server (None when ``control_socket.path`` is empty) and a line saying where it is;
    ``lock``: the path's lock when already taken (:func:`claim_simulator_socket`)."""
    path = supervisor.config.control_socket.path
    if not path:
        if lock is not None:
            lock.release()
        return None, []
    server = ControlSocketServer(supervisor, lock)
    return server, [f"control socket at {path} (the gateway connects here: docs/gateway.md)"]
