"""Starting the control socket from ``v2xctl run`` (and where the simulator puts it)."""

from __future__ import annotations

import os
import tempfile

from controller.control_socket.server import ControlSocketServer, in_use
from controller.supervisor.loop import Supervisor

SOCKET_NAME = "control.sock"


def simulator_socket_path(base: str | None = None) -> str:
    """The built-in simulator's socket: ``control.sock`` in a directory of this user's own
    under the temporary directory (``./dev gateway`` looks there), created 0700; when another
    simulator serves that one already, ``control-PID.sock`` beside it (printed at start-up)."""
    if base is None:
        base = os.path.join(tempfile.gettempdir(), f"v2x-controller-{os.getuid()}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    path = os.path.join(base, SOCKET_NAME)
    if os.path.exists(path) and in_use(path):
        return os.path.join(base, f"control-{os.getpid()}.sock")
    return path


def start_control_socket(supervisor: Supervisor) -> tuple[ControlSocketServer | None, list[str]]:
    """The server (None when ``control_socket.path`` is empty) and a line saying where it is."""
    path = supervisor.config.control_socket.path
    if not path:
        return None, []
    server = ControlSocketServer(supervisor)
    return server, [f"control socket at {path} (the gateway connects here: docs/gateway.md)"]
