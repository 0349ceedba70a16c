"""The command registry: every command with its role, arguments, summary and example.

``docs/console.md`` lists the same commands and a test keeps the two equal. Names may be
shortened to any unique prefix (``sta`` for ``status``); an ambiguous prefix is refused with the
candidates, never guessed. A command of two words (``config get``) takes a prefix for each.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.console import calibrate_cmd
from controller.console import handlers_control as control
from controller.console import handlers_read as read
from controller.console.context import CommandContext, Handler, Reply, ok, refuse
from controller.console.roles import Role

MAX_WORDS = 16


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # one or two words
    role: Role
    args: str  # as the help shows them; "" for none
    min_args: int
    max_args: int
    summary: str
    example: str
    handler: Handler
    service: bool = False  # needs service mode
    detail: str = ""  # more than the summary, for `help COMMAND`

    @property
    def usage(self) -> str:
        return f"{self.name} {self.args}".strip()


def _help(ctx: CommandContext, args: list[str]) -> Reply:
    if args:
        found = find(args)
        if isinstance(found, str):
            return refuse(found)
        cmd = found[0]
        need = f"role {cmd.role.label}" + (", service mode" if cmd.service else "")
        detail = f"\r\n  {cmd.detail}" if cmd.detail else ""
        return ok(f"{cmd.usage}\r\n  {cmd.summary}{detail}\r\n  needs {need}; example: "
                  f"{cmd.example}", command=cmd.name, role=cmd.role.label, args=cmd.args,
                  example=cmd.example, detail=cmd.detail)
    lines = [f"{c.usage:<28} {c.role.label:<10} {c.summary}" for c in REGISTRY]
    lines.append("names may be shortened to a unique prefix; Tab completes, `?` shows what "
                 "may come next, Up/Down recall lines; `help COMMAND` for details")
    return ok("\r\n".join(lines), commands=[c.name for c in REGISTRY])


def _login(ctx: CommandContext, args: list[str]) -> Reply:
    if not args and ctx.session.machine:
        return refuse("login: PIN missing (machine mode has no hidden prompt: send `login PIN`)")
    if not args:
        ctx.session.awaiting_pin = True
        ctx.session.editor.secret = True
        return ok("PIN: ")
    return ctx.console.begin_login(ctx.session, args[0])


def _logout(ctx: CommandContext, args: list[str]) -> Reply:
    return ok(ctx.console.end_login(ctx.session, "logout"), role="viewer")


VIEW, OPER, TECH = Role.VIEWER, Role.OPERATOR, Role.TECHNICIAN
REGISTRY: tuple[Command, ...] = (
    Command("help", VIEW, "[COMMAND]", 0, 2, "list commands, or explain one", "help mode", _help),
    Command("status", VIEW, "", 0, 0, "state, mode winner and source, grid V/Hz, EV SoC, power "
            "flows, temperatures, active faults", "status", read.status),
    Command("faults", VIEW, "", 0, 0, "latched faults with what to check", "faults", read.faults),
    Command("log", VIEW, "[N]", 0, 1, "the last N events (default 20, at most 200)", "log 50",
            read.log,
            detail="N is a whole number from 1 to 200."),
    Command("limits", VIEW, "", 0, 0, "configured, EV and arbitrated power limits", "limits",
            read.limits),
    Command("selftest", VIEW, "", 0, 0, "check sensors, links, inputs and contactor feedback "
            "from the last tick (drives nothing)", "selftest", read.selftest),
    Command("watch", VIEW, "", 0, 0, "a live status line until any key is pressed", "watch",
            read.watch),
    Command("events", VIEW, "on|off", 1, 1, "asynchronous state-change events on this port",
            "events on", read.events),
    Command("config get", VIEW, "KEY", 1, 1, "a key or table of the running config (PIN hashes "
            "redacted)", "config get limits.max_charge_power_w", read.config_get),
    Command("version", VIEW, "", 0, 0, "software and console protocol version", "version",
            read.version),
    Command("whoami", VIEW, "", 0, 0, "role, port and service mode of this session", "whoami",
            read.whoami),
    Command("login", VIEW, "[PIN]", 0, 1, "log in as operator or technician (the PIN decides); "
            "without PIN it asks and hides it", "login", _login,
            detail=("`login` alone asks for the PIN and echoes nothing. A PIN is 4 to 12 "
                    "digits; anything else is refused and not counted. Wrong PINs count per "
                    "role and per port; after console.max_failures that role is locked out on "
                    "this port, with back-off.")),
    Command("logout", VIEW, "", 0, 0, "back to viewer; releases a technician claim and ends "
            "service mode", "logout", _logout),
    Command("mode", OPER, "idle|charge|v2h|v2g|v2l", 1, 1, "claim a mode through arbitration",
            "mode charge", control.mode,
            detail=("A claim replaces this role's earlier claim as a whole: a power limit set "
                    "before is dropped (the reply says so); set `power` again after `mode`. "
                    "Refused in service mode except idle.")),
    Command("power", OPER, "KW", 1, 1, "claim a power limit in kW (a magnitude)", "power 3.5",
            control.power,
            detail=("A claim replaces this role's earlier claim as a whole; `power` keeps "
                    "the mode the role claimed, but a later `mode` replaces the claim and drops "
                    "the limit. A finite number from 0 to 32 kW.")),
    Command("stop", OPER, "", 0, 0, "claim idle: ramp down and open the contactors", "stop",
            control.stop,
            detail="Replaces this role's claim with idle (a power limit in it is dropped)."),
    Command("release", OPER, "", 0, 0, "withdraw this role's claim so other requesters apply",
            "release", control.release,
            detail=("The next requester's wish (automation, the owner's standing wish) "
                    "applies from the next tick.")),
    Command("reset", TECH, "", 0, 0, "clear latched faults (refused while a trip condition is "
            "present)", "reset", control.reset,
            detail="The outcome (cleared, or refused and why) is in `log`."),
    Command("config set", TECH, "KEY VALUE", 2, MAX_WORDS, "validate a value like the config "
            "file; console.* applies now, nothing persists", "config set console.watch_interval_s "
            "2", control.config_set,
            detail=("Numbers must be finite and in the key's range. Keys of [console] "
                    "except the PIN hashes apply at once; the others are read at start-up.")),
    Command("service", TECH, "on|off", 1, 1, "service mode: hold the charger idle as technician; "
            "ends on logout or timeout", "service on", control.service),
    Command("contactor test", TECH, "NAME", 1, 1, "operate one contactor for 1 s with "
            "everything else off; aux response time to the log", "contactor test ac",
            control.contactor_test, service=True),
    Command("calibrate", TECH, "list | CHANNEL REFERENCE | CHANNEL save INSTRUMENT... | "
            "CHANNEL clear | CHANNEL discard", 1, MAX_WORDS, "record reference points, then "
            "compute, validate and store a channel's calibration", "calibrate meter.voltage "
            "240.3", calibrate_cmd.handle),
)


def _match(word: str, choices: list[str], what: str) -> str | tuple[str]:
    word = word.lower()
    if word in choices:
        return (word,)
    found = [c for c in choices if c.startswith(word)]
    if len(found) == 1:
        return (found[0],)
    if found:
        return f"{what} {word[:16]!r} is ambiguous: {', '.join(found)}"
    return f"unknown {what} {word[:16]!r}: `help` lists the commands"


def first_word(word: str) -> str | None:
    """The first word of the command(s) ``word`` is a unique prefix of, or None."""
    found = _match(word, list(dict.fromkeys(c.name.split()[0] for c in REGISTRY)), "command")
    return None if isinstance(found, str) else found[0]


def find(words: list[str]) -> tuple[Command, list[str]] | str:
    """The command ``words`` name and the words after its name, or why they name none."""
    if len(words) > MAX_WORDS:
        return f"too many words ({len(words)}, at most {MAX_WORDS})"
    firsts = list(dict.fromkeys(c.name.split()[0] for c in REGISTRY))
    first = _match(words[0], firsts, "command")
    if isinstance(first, str):
        return first
    group = [c for c in REGISTRY if c.name.split()[0] == first[0]]
    rest = words[1:]
    if len(group[0].name.split()) == 2:
        subs = [c.name.split()[1] for c in group]
        if not rest:
            return f"{first[0]}: needs one of {', '.join(subs)}"
        sub = _match(rest[0], subs, f"{first[0]} subcommand")
        if isinstance(sub, str):
            return sub
        group, rest = [c for c in group if c.name.split()[1] == sub[0]], rest[1:]
    return group[0], rest


def resolve(words: list[str]) -> tuple[Command, list[str]] | str:
    """The command ``words`` name and its arguments, or why they name none or do not fit."""
    found = find(words)
    if isinstance(found, str):
        return found
    cmd, rest = found
    if len(rest) < cmd.min_args:
        return f"{cmd.name}: missing argument {cmd.args} (usage: {cmd.usage})"
    if len(rest) > cmd.max_args:
        return f"{cmd.name}: too many arguments (usage: {cmd.usage})"
    return cmd, rest
