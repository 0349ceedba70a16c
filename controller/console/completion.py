"""Tab completion and ``?`` help from the command registry (the line editor's ``Assist``).

Completion offers command names, the second word of two-word commands, the choices of an
argument written as ``a|b|c`` (``mode``, ``events``, ``service``), command names after ``help``,
and dotted keys of the running config after ``config get``/``config set``. ``?`` lists what may
come next with each command's usage and summary. Which lines are kept for Up/Down is decided
here too: never a ``login`` line (it may carry a PIN) and never a line that names no command.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from controller.config.model import Config
from controller.console.commands import REGISTRY, Command, find, first_word

CHOICES = re.compile(r"^[a-z0-9]+(\|[a-z0-9]+)+$")
CONFIG_COMMANDS = ("config get", "config set")


def _firsts() -> list[str]:
    return list(dict.fromkeys(c.name.split()[0] for c in REGISTRY))


def _line(cmd: Command) -> str:
    return f"  {cmd.usage:<28} {cmd.summary}"


def config_keys(node: Any, prefix: str = "") -> list[str]:
    """Every table and key of ``node`` (a config dataclass) as dotted names."""
    keys = []
    for field in dataclasses.fields(node):
        name = prefix + field.name
        keys.append(name)
        value = getattr(node, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            keys += config_keys(value, name + ".")
    return keys


class CommandAssist:
    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config

    def complete(self, line: str) -> list[str]:
        words = line.split(" ")
        done, typed = [w for w in words[:-1] if w], words[-1]
        return sorted(w for w in self._choices(done) if w.startswith(typed.lower()))

    def _choices(self, done: list[str]) -> list[str]:
        if not done:
            return _firsts()
        first = first_word(done[0])
        if first is None:
            return []
        group = [c for c in REGISTRY if c.name.split()[0] == first]
        if len(group[0].name.split()) == 2 and len(done) == 1:
            return [c.name.split()[1] for c in group]
        found = find(done)
        if isinstance(found, str):
            return []
        cmd, args = found
        if args:
            return []
        if cmd.name == "help":
            return _firsts()
        if cmd.name in CONFIG_COMMANDS:
            return config_keys(self._config())
        return cmd.args.split("|") if CHOICES.match(cmd.args) else []

    def explain(self, line: str) -> str:
        words = line.split()
        if not words:
            return "\r\n".join(_line(c) for c in REGISTRY)
        partial = not line.endswith(" ")
        if partial and len(words) == 1:
            shown = [c for c in REGISTRY if c.name.startswith(words[0].lower())]
            return "\r\n".join(_line(c) for c in shown) or f"  no command starts with " \
                f"{words[0][:16]!r}"
        first = first_word(words[0])
        if first is None:
            return f"  unknown or ambiguous command {words[0][:16]!r}"
        commands = [c for c in REGISTRY if c.name.split()[0] == first]
        if len(commands) > 1 and (len(words) == 1 or (partial and len(words) == 2)):
            sub = words[1].lower() if len(words) == 2 else ""
            shown = [c for c in commands if c.name.split()[1].startswith(sub)]
            return "\r\n".join(_line(c) for c in shown or commands)
        found = find(words)
        if isinstance(found, str):
            return f"  {found}"
        cmd = found[0]
        return f"{_line(cmd)}\r\n  example: {cmd.example}"


def worth_remembering(line: str) -> bool:
    """Keep ``line`` for Up/Down: it names a command, and not ``login`` (a PIN may follow)."""
    words = line.split()
    found = find(words) if words else "empty"
    return not isinstance(found, str) and found[0].name != "login"
