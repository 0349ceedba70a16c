"""What a command handler gets and returns: the session, the bridge, the console's actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.config.model import Config, ConsoleSettings
from controller.console.bridge import SupervisorBridge
from controller.console.session import Session


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's answer: ``text`` for people, ``data`` for scripts (machine mode)."""

    ok: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    pending: bool = False  # the answer comes later (a PIN being checked)


def ok(text: str, **data: Any) -> Reply:
    return Reply(True, text, dict(data))


def refuse(text: str, **data: Any) -> Reply:
    return Reply(False, text, dict(data))


class ConsoleActions(Protocol):
    """What the server offers handlers beyond the bridge (controller/console/server.py)."""

    @property
    def settings(self) -> ConsoleSettings: ...

    def begin_login(self, session: Session, pin: str) -> Reply: ...

    def end_login(self, session: Session, why: str) -> str: ...

    def end_service(self, session: Session, why: str) -> str: ...

    def apply_config(self, config: Config) -> None: ...


@dataclass(frozen=True, slots=True)
class CommandContext:
    session: Session
    bridge: SupervisorBridge
    console: ConsoleActions


Handler = Callable[[CommandContext, list[str]], Reply]
