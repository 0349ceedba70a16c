"""The control socket served from the control loop's thread (``on_tick``), never blocking it.

Each tick: accept waiting connections (beyond ``max_clients`` one is told why and closed), read
each client within its byte budget, run at most ``LINES_PER_TICK`` framed requests per client,
stream events to clients that asked for them, and send what the sockets accept. Every request
must be framed (``$BODY*CRC``, controller/console/framing.py); the reply is the console's JSON
line. A client is an operator-level session (controller/control_socket/commands.py); access to
the socket itself is by file permission (the file is 0660; on a Pi in /run/v2x-control, setgid
group v2x-control, whose only other member is the gateway's user). No exception leaves
``on_tick``; a failing client is disconnected, never the loop.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import socket
import stat
from dataclasses import dataclass

from controller.config.model import Config, ConsoleSettings
from controller.console import framing
from controller.console.bridge import SupervisorBridge
from controller.console.context import CommandContext, Reply, refuse
from controller.console.line_editor import LineEditor
from controller.console.roles import Role
from controller.console.session import Session
from controller.control_socket.commands import SocketCommands
from controller.control_socket.connection import Connection
from controller.control_socket.feed import EventFeed
from controller.control_socket.lock import SocketLock, acquire
from controller.control_socket.settings import ControlSocketSettings
from controller.supervisor.loop import Supervisor
from hal.errors import HalSetupError

log = logging.getLogger("v2x.control_socket")

LINES_PER_TICK = 4  # requests run per client per tick (200/s at a 20 ms tick)
ACCEPTS_PER_TICK = 4
BACKLOG = 8
SOCKET_MODE = 0o660


@dataclass
class Client:
    conn: Connection
    session: Session


class _NoConsoleActions:
    """A socket client has no login, service mode or config: these are never reachable."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self._settings = settings

    @property
    def settings(self) -> ConsoleSettings:
        return self._settings

    def begin_login(self, session: Session, pin: str) -> Reply:
        return refuse("no login on the control socket")

    def end_login(self, session: Session, why: str) -> str:
        return "no login on the control socket"

    def end_service(self, session: Session, why: str) -> str:
        return ""

    def apply_config(self, config: Config) -> None:
        return None


def in_use(path: str) -> bool:
    """A process accepts connections on the socket at ``path`` (a stale file: False)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(path)
    except (BlockingIOError, InterruptedError):
        return True  # its backlog is full: someone is listening
    except OSError:
        return False
    finally:
        probe.close()
    return True


def bind_socket(settings: ControlSocketSettings,
                lock: SocketLock | None = None) -> tuple[socket.socket, SocketLock]:
    """A listening, non-blocking socket at ``settings.path`` and the path's lock (held; see
    controller/control_socket/lock.py). The lock is taken first (or ``lock``, already held for
    this path, is used): a path whose lock another process holds is an error, whatever the
    file's state. Then a stale socket file is replaced; one a process serves anyway (without
    the lock: an older controller), or any other file there, is an error (HalSetupError). On
    an error the lock is released."""
    path = settings.path
    if lock is None:
        lock = acquire(path)
    elif lock.path != path or not lock.held:
        raise ValueError(f"bind_socket: the lock given is not held for {path}")
    try:
        return _bind_locked(settings), lock
    except BaseException:
        lock.release()
        raise


def _bind_locked(settings: ControlSocketSettings) -> socket.socket:
    path = settings.path
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise HalSetupError(f"control_socket.path {path}: exists and is not a socket")
        if in_use(path):
            raise HalSetupError(f"control_socket.path {path}: another process (a running "
                                "controller?) serves it")
        os.unlink(path)
    except FileNotFoundError:
        pass
    except HalSetupError:
        raise
    except OSError as err:
        raise HalSetupError(f"control_socket.path {path}: {err}") from err
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o117)  # the file is created 0660: never open to others, even briefly
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        os.chmod(path, SOCKET_MODE)
        if settings.group:
            os.chown(path, -1, grp.getgrnam(settings.group).gr_gid)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except (OSError, KeyError) as err:
        sock.close()
        what = f"group {settings.group!r} does not exist" if isinstance(err, KeyError) else err
        raise HalSetupError(f"control_socket.path {path}: cannot serve it: {what}") from err
    return sock


class ControlSocketServer:
    def __init__(self, supervisor: Supervisor, lock: SocketLock | None = None) -> None:
        """Serve ``control_socket.path``; ``lock``: that path's lock, already taken (the
        built-in simulator's choice of path, controller/control_socket/serve.py), else taken
        here. The server owns it from here on (released by :meth:`close` or a failed start)."""
        self.settings = supervisor.config.control_socket
        self.bridge = SupervisorBridge(supervisor)
        self.commands = SocketCommands(supervisor, lambda: self.settings.max_lease_s)
        self.feed = EventFeed(supervisor)
        self._actions = _NoConsoleActions(supervisor.config.console)
        listener, self._lock = bind_socket(self.settings, lock)
        self._listener: socket.socket | None = listener
        self._inode = os.stat(self.settings.path).st_ino  # close() removes only our own file
        self.clients: list[Client] = []
        self._count = 0
        self.requests = 0  # request lines answered since start
        self.busiest_tick = 0  # the most request lines answered in one tick (the work bound)
        self.refused_connections = 0

    # ----- the tick ----------------------------------------------------------------------
    def on_tick(self, _sup: Supervisor | None = None) -> None:
        """Serve every client once; never raises."""
        try:
            self._accept()
            listening = any(c.session.events for c in self.clients)
            events = self.feed.poll(with_state=listening)  # unheard records are passed over
            if not listening:
                events = []
        except Exception:
            log.exception("control socket: unexpected error (accept or event feed)")
            events = []
        before = self.requests
        for client in self.clients:
            try:
                self._serve(client, events)
            except Exception:
                log.exception("control socket %s: unexpected error (disconnected)",
                              client.conn.name)
                client.conn.close("internal error")
        self.busiest_tick = max(self.busiest_tick, self.requests - before)
        for client in [c for c in self.clients if c.conn.closed is not None]:
            log.info("control socket %s disconnected: %s", client.conn.name, client.conn.closed)
            self.clients.remove(client)

    def _accept(self) -> None:
        if self._listener is None:
            return
        for _ in range(ACCEPTS_PER_TICK):
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            self._count += 1
            name = f"socket:{self._count}"
            s = self.settings
            conn = Connection(sock, name, s.read_budget_bytes, s.max_line_bytes,
                              s.output_buffer_bytes)
            if len(self.clients) >= s.max_clients:
                self.refused_connections += 1
                text = f"refused: {s.max_clients} clients are connected already"
                conn.send(framing.reply_line(False, "connect", None, text, error=text))
                conn.flush()
                conn.close(text)
                continue
            session = Session(name, LineEditor(s.max_line_bytes), self.bridge.now())
            session.role, session.machine = Role.OPERATOR, True
            self.clients.append(Client(conn, session))
            log.info("control socket %s connected", name)

    def _serve(self, client: Client, events: list[tuple[str, dict[str, object]]]) -> None:
        conn, session = client.conn, client.session
        conn.read()
        if conn.overlong:
            text = f"request longer than {conn.max_line} bytes: dropped"
            for _ in range(conn.overlong):
                conn.send(framing.reply_line(False, "?", None, text, error=text))
            conn.overlong = 0
        for _ in range(LINES_PER_TICK):
            if not conn.lines:
                break
            line = conn.lines.popleft()
            if line.strip():
                conn.send(self._answer(session, line))
        if session.events:
            for kind, data in events:
                conn.send(framing.event_line(kind, data))
            seen = tuple(sorted((k, str(v)) for k, v in self.feed.state.items() if k != "t"))
            if seen != session.last_seen:
                session.last_seen = seen
                conn.send(framing.event_line("state", self.feed.state))
        conn.flush()

    def _answer(self, session: Session, line: str) -> str:
        self.requests += 1
        text = line.strip()
        if not text.startswith("$"):
            why = "the control socket takes framed requests only: $BODY*CCCC (docs/console.md)"
            return framing.reply_line(False, "?", None, why, error=why)
        try:
            request = framing.parse_request(text)
        except framing.FrameError as err:
            return framing.reply_line(False, "?", err.seq, str(err), error=str(err))
        session.current_seq = request.seq
        found = self.commands.resolve(request.words)
        if isinstance(found, str):
            return framing.reply_line(False, "?", request.seq, found, error=found)
        cmd, args = found
        ctx = CommandContext(session, self.bridge, self._actions)
        try:
            reply = cmd.handler(ctx, args)
        except Exception as err:  # a handler bug must not reach the loop
            log.exception("control socket command %s failed", cmd.name)
            reply = refuse(f"internal error in `{cmd.name}`: {type(err).__name__}")
        error = None if reply.ok else reply.text
        return framing.reply_line(reply.ok, cmd.name, request.seq, reply.text, reply.data,
                                  error)

    def close(self) -> None:
        """Disconnect every client, remove the socket file, then release the path's lock
        (leases run on by themselves)."""
        for client in self.clients:
            client.conn.close("the controller is stopping")
        self.clients.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(OSError):
                if os.stat(self.settings.path).st_ino == self._inode:
                    os.unlink(self.settings.path)
        self._lock.release()
