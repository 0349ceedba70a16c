"""One port's console session: who is logged in, what is pending, what is streamed."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from controller.console.line_editor import LineEditor, LineEvent
from controller.console.roles import Role
from controller.measurement.calibration import ReferencePoint

MAX_PENDING_LINES = 16  # lines waiting for their turn; more are dropped with a note


@dataclass
class PendingLogin:
    result: Future[Role | None]
    machine: bool
    seq: str | None
    roles: tuple[Role, ...]  # the roles the PIN is checked against (not locked out)


@dataclass
class Session:
    port: str
    editor: LineEditor
    last_input: float = 0.0
    role: Role = Role.VIEWER
    service: bool = False
    events: bool = False  # asynchronous state-change events
    watching: bool = False
    next_watch: float = 0.0
    awaiting_pin: bool = False  # `login` without a PIN: the next line is the PIN
    machine: bool = False  # the last request was framed (no prompt, JSON replies)
    current_seq: str | None = None  # the sequence id of the framed request being run
    login: PendingLogin | None = None
    lines: deque[LineEvent] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_LINES))
    lines_dropped: int = 0
    last_seen: tuple[object, ...] | None = None  # the state the last event reported
    cal_points: dict[str, list[ReferencePoint]] = field(default_factory=dict)  # `calibrate`
    port_down: bool = False  # the port failed; a banner greets whoever comes next
    greeted: bool = False  # a line was typed since start-up (else Enter shows the banner)

    def forget(self, editor: LineEditor) -> None:
        """Everything of the last person gone: input, history, streams, a PIN being checked."""
        if self.login is not None:
            self.login.result.cancel()
        self.editor, self.login = editor, None
        self.role, self.service, self.events, self.watching = Role.VIEWER, False, False, False
        self.awaiting_pin, self.machine, self.current_seq = False, False, None
        self.lines.clear()
        self.lines_dropped, self.last_seen = 0, None
        self.cal_points.clear()

    def queue(self, event: LineEvent) -> None:
        if len(self.lines) == self.lines.maxlen:
            self.lines_dropped += 1
            return
        self.lines.append(event)
