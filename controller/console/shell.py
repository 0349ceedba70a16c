"""One input line to one reply: parse (human or framed), resolve, check the role, run, audit.

Every command above viewer, every refusal of one, and every login event is written to the audit
log with the port and role. A PIN never reaches the audit log or any output: ``login`` is
recorded without its argument and values of secret config keys are redacted.
"""

from __future__ import annotations

import logging

from controller.console import framing
from controller.console.commands import Command, resolve
from controller.console.config_access import REDACTED, is_secret
from controller.console.context import CommandContext, Reply, refuse
from controller.console.roles import Role
from controller.store.audit_store import AuditStore

log = logging.getLogger("v2x.console")


def audit_text(cmd: Command, args: list[str]) -> str:
    """The command as the audit log records it: no PIN, no secret values."""
    if cmd.name == "login":
        return "login"
    if args and is_secret(args[0]):
        return f"{cmd.name} {args[0]} {REDACTED}".strip()
    return " ".join([cmd.name, *args])


def _check_role(cmd: Command, ctx: CommandContext) -> str:
    role = ctx.session.role
    if role < cmd.role:
        how = "`login` with the " + cmd.role.label + " PIN"
        return (f"refused: `{cmd.name}` needs the {cmd.role.label} role (this session is "
                f"{role.label}); {how}")
    if cmd.service and not ctx.session.service:
        return f"refused: `{cmd.name}` needs service mode (`service on`)"
    return ""


def run_words(words: list[str], ctx: CommandContext, audit: AuditStore) -> tuple[str, Reply]:
    """Resolve and run; returns the command's name (or "?") and its reply."""
    found = resolve(words)
    if isinstance(found, str):
        return "?", refuse(found)
    cmd, args = found
    privileged = cmd.role > Role.VIEWER
    refusal = _check_role(cmd, ctx)
    if refusal:
        reply = refuse(refusal)
    else:
        try:
            reply = cmd.handler(ctx, args)
        except Exception as err:  # a handler bug must not reach the loop
            log.exception("console command %s failed", cmd.name)
            reply = refuse(f"internal error in `{cmd.name}`: {type(err).__name__}")
    if privileged:
        outcome = "ok" if reply.ok else reply.text
        audit.record(ctx.bridge.now(), ctx.bridge.wall_time(), ctx.session.port,
                     ctx.session.role.label, audit_text(cmd, args), outcome[:200])
    return cmd.name, reply


def run_human(line: str, ctx: CommandContext, audit: AuditStore) -> Reply | None:
    ctx.session.machine = False
    words = line.split()
    if not words:
        return None
    return run_words(words, ctx, audit)[1]


def run_machine(line: str, ctx: CommandContext, audit: AuditStore) -> str:
    """A framed request; the reply line (JSON), or "" while a login is being checked."""
    try:
        request = framing.parse_request(line)
    except framing.FrameError as err:
        return framing.reply_line(False, "?", err.seq, str(err), error=str(err))
    ctx.session.machine, ctx.session.current_seq = True, request.seq
    name, reply = run_words(request.words, ctx, audit)
    if reply.pending:
        return ""
    error = None if reply.ok else reply.text
    return framing.reply_line(reply.ok, name, request.seq, reply.text, reply.data, error)
