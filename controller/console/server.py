"""The console on every configured port, served from the control loop's thread.

``on_tick`` is passed to ``Supervisor.run``: each tick it reads at most a budget of bytes per
port, runs at most ``LINES_PER_TICK`` lines per port, checks logins and timeouts, streams
``watch`` lines and state-change events, and writes what the port accepts. A port that fails
or hangs up ends its session in the same tick. Nothing blocks: a PIN is checked on a worker
thread (controller/console/login.py, auth.py), output for a terminal that does not read is
bounded (controller/console/transport.py), and no exception leaves ``on_tick``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from controller.config.model import Config, ConsoleSettings
from controller.console import framing
from controller.console.bridge import SupervisorBridge
from controller.console.completion import CommandAssist, worth_remembering
from controller.console.context import CommandContext, Reply, ok
from controller.console.line_editor import Kind, LineEditor, LineEvent
from controller.console.login import Logins
from controller.console.roles import Role
from controller.console.session import Session
from controller.console.shell import run_human, run_machine
from controller.console.transport import PortChannel
from controller.store.audit_store import AuditStore
from controller.store.login_failures import LoginFailures
from controller.supervisor.loop import Supervisor
from hal.interfaces.serial_port import SerialPort

log = logging.getLogger("v2x.console")

LINES_PER_TICK = 2
BANNER = "v2x-controller technician console: `help` lists the commands"


class ConsoleServer:
    def __init__(self, supervisor: Supervisor, ports: Mapping[str, SerialPort],
                 audit: AuditStore) -> None:
        self.bridge = SupervisorBridge(supervisor)
        self._settings = supervisor.config.console
        self.audit = audit
        self._assist = CommandAssist(lambda: self.bridge.config)
        self.logins = Logins(self._settings, LoginFailures(supervisor.store.connection),
                             lambda session, outcome: self._audit(session, "login", outcome))
        now = self.bridge.now()
        self.channels: dict[str, PortChannel] = {}
        self.sessions: dict[str, Session] = {}
        for name, port in ports.items():
            self.channels[name] = PortChannel(name, port, self._settings.read_budget_bytes,
                                              self._settings.output_buffer_bytes)
            self.sessions[name] = Session(name, self._new_editor(), now)
            self._say(self.sessions[name], BANNER)
            self._prompt(self.sessions[name])

    # ----- ConsoleActions ----------------------------------------------------------------
    @property
    def settings(self) -> ConsoleSettings:
        return self._settings

    def apply_config(self, config: Config) -> None:
        """Take the console's own keys from a validated config (``config set console.*``)."""
        self._settings = config.console
        self.logins.configure(config.console)
        for channel in self.channels.values():
            channel.read_budget = config.console.read_budget_bytes
            channel.limit = config.console.output_buffer_bytes
        for session in self.sessions.values():
            session.editor.max_bytes = config.console.max_line_bytes

    def begin_login(self, session: Session, pin: str) -> Reply:
        return self.logins.begin(session, pin, self.bridge.wall_time())

    def end_login(self, session: Session, why: str) -> str:
        """Back to viewer; ends service mode and a technician claim no other session needs."""
        if session.role is Role.VIEWER:
            return "not logged in"
        session.editor.forget_history()  # the next person cannot recall this session's lines
        text = self.end_service(session, why) if session.service else ""
        was = session.role
        session.role = Role.VIEWER
        others = any(s.role is Role.TECHNICIAN for s in self.sessions.values())
        if was is Role.TECHNICIAN and not others and self.bridge.holds_claim(was):
            self.bridge.release(was)
            text += "; technician claim released"
        self._audit(session, why, f"{was.label} session ended", role=was)
        return f"{why}: {was.label} session ended{text}"

    def end_service(self, session: Session, why: str) -> str:
        session.service = False
        others = any(s.service for s in self.sessions.values())
        if not others:
            self.bridge.release(Role.TECHNICIAN)
        self._audit(session, why, "service mode ended")
        return "; service mode ended"

    # ----- the tick ----------------------------------------------------------------------
    def on_tick(self, _sup: Supervisor | None = None) -> None:
        """Serve every port once; never raises (the loop must not depend on a terminal)."""
        now = self.bridge.now()
        for name, session in self.sessions.items():
            try:
                self._serve(session, self.channels[name], now)
            except Exception:
                log.exception("console port %s: unexpected error (input dropped)", name)
                session.lines.clear()
                session.editor = self._new_editor()

    def _serve(self, session: Session, channel: PortChannel, now: float) -> None:
        data = channel.read(now)
        self._check_port(session, channel)
        if data:
            session.last_input = now
            if session.watching:
                session.watching = False
                data = b""  # the key that stops `watch` is consumed
                self._say(session, "watch stopped")
                self._prompt(session)
            events, echo = session.editor.feed(data)
            channel.send(echo)
            for event in events:
                session.queue(event)
        if session.lines_dropped:
            self._say(session, f"[{session.lines_dropped} lines dropped: type slower]")
            session.lines_dropped = 0
        for _ in range(LINES_PER_TICK):
            if not session.lines or session.login is not None:
                break
            self._handle(session, session.lines.popleft())
        self._poll_login(session)
        self._check_timeout(session, now)
        self._stream(session, now)
        channel.flush(now)
        self._check_port(session, channel)

    def _check_port(self, session: Session, channel: PortChannel) -> None:
        """End the session when its port failed or hung up; greet the next person on return."""
        if channel.lost is not None:
            why, channel.lost = channel.lost, None
            self._audit(session, "port lost", why[:200])
            self.end_login(session, "port lost")
            session.forget(self._new_editor())
            session.port_down = True
            channel.discard()
        elif session.port_down and channel.working:
            session.port_down = False
            session.greeted = True
            self._say(session, BANNER)
            self._prompt(session)

    def _new_editor(self) -> LineEditor:
        return LineEditor(self._settings.max_line_bytes, self._assist)

    def _handle(self, session: Session, event: LineEvent) -> None:
        ctx = CommandContext(session, self.bridge, self)
        if event.kind is Kind.CANCEL:
            session.awaiting_pin = session.editor.secret = False
            self._prompt(session)
            return
        if event.kind is Kind.ERROR:
            if event.machine:
                self._say(session, framing.reply_line(False, "?", None, event.text,
                                                      error=event.text))
            else:
                self._say(session, event.text)
                self._prompt(session)
            return
        if session.awaiting_pin and not event.machine:
            session.awaiting_pin = session.editor.secret = False
            reply: Reply | None = self.begin_login(session, event.text.strip())
        elif event.machine:
            line = run_machine(event.text, ctx, self.audit)
            if line:
                self._say(session, line)
            return
        else:
            if not event.text.strip() and not session.greeted:
                self._say(session, BANNER)  # Enter on a console attached after start-up
            session.greeted = True
            if worth_remembering(event.text):  # never a PIN: `login` lines are not kept
                session.editor.remember(event.text)
            reply = run_human(event.text, ctx, self.audit)
        if reply is not None and reply.pending:
            return
        if reply is not None and reply.text != "PIN: ":
            self._say(session, reply.text)
        if not session.watching:  # `watch` prompts again when it stops
            self._prompt(session, pin=reply is not None and reply.text == "PIN: ")

    def _poll_login(self, session: Session) -> None:
        done = self.logins.poll(session, self.bridge.wall_time())
        if done is not None:
            pending, reply = done
            self._finish(session, pending.machine, pending.seq, "login", reply)

    def _finish(self, session: Session, machine: bool, seq: str | None, cmd: str,
                reply: Reply) -> None:
        if machine:
            error = None if reply.ok else reply.text
            self._say(session, framing.reply_line(reply.ok, cmd, seq, reply.text, reply.data,
                                                  error))
        else:
            self._say(session, reply.text)
            self._prompt(session)

    def _check_timeout(self, session: Session, now: float) -> None:
        limit = self._settings.session_timeout_s
        if session.role is Role.VIEWER or now - session.last_input < limit:
            return
        text = self.end_login(session, "timeout")
        self._finish(session, session.machine, None, "timeout",
                     ok(f"{text} after {limit:.0f} s without input"))

    def _stream(self, session: Session, now: float) -> None:
        if session.watching and now >= session.next_watch:
            self._say(session, self.bridge.status().line())
            session.next_watch = now + self._settings.watch_interval_s
        if not session.events:
            return
        st = self.bridge.status()
        seen = (st.state, st.request, st.request_source, st.power_limit_w, st.faults)
        if seen == session.last_seen:
            return
        session.last_seen = seen
        data = {"t": st.t, "state": st.state, "mode": st.request,
                "mode_source": st.request_source, "power_limit_w": st.power_limit_w,
                "faults": list(st.faults)}
        if session.machine:
            self._say(session, framing.event_line("state", data))
        else:
            self._say(session, f"* {st.state}, mode {st.request} ({st.request_source}), "
                      f"faults: {', '.join(st.faults) or 'none'}")

    # ----- output ------------------------------------------------------------------------
    def _say(self, session: Session, text: str) -> None:
        self.channels[session.port].send(text.encode("ascii", "replace") + b"\r\n")

    def _prompt(self, session: Session, pin: bool = False) -> None:
        if session.machine:
            return
        if pin:
            self.channels[session.port].send(b"PIN: ")
            return
        role = session.role.label + (" service" if session.service else "")
        prompt = f"[{self.bridge.state} {role}]> ".encode("ascii")
        session.editor.prompt = prompt
        self.channels[session.port].send(prompt)

    def _audit(self, session: Session, command: str, outcome: str,
               role: Role | None = None) -> None:
        self.audit.record(self.bridge.now(), self.bridge.wall_time(), session.port,
                          (role or session.role).label, command, outcome)

    def close(self) -> None:
        self.logins.close()
