"""The control socket's commands: the console's read commands plus leased claims.

A client of the socket is an operator-level requester and never a technician: it reads what a
viewer reads (the console's own handlers, so replies are the same JSON) and claims or releases
as ``schedule`` or ``grid_operator`` only (``REQUESTERS``), each claim with a lease of at most
``control_socket.max_lease_s``. Nothing here drives an output: a claim goes through the
supervisor's arbitration, which may refuse it (the reply carries the reason) or be outranked.
Command names are exact (a script, not a person, is typing).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.console import handlers_read as read
from controller.console.commands import Command
from controller.console.context import CommandContext, Reply, ok, refuse
from controller.console.numbers import parse_number
from controller.console.roles import Role
from controller.dispatch.arbitration import Claim, Source
from controller.modes.requests import MODES
from controller.supervisor.loop import Supervisor

# The requesters a socket client may claim as: operator-level, below technician and safety.
REQUESTERS = {"schedule": Source.SCHEDULE, "grid_operator": Source.GRID_OPERATOR}
NONE_WORD = "-"  # "no opinion on this field"
MAX_POWER_W = 32000.0  # the largest power any config key allows (as the console's `power`)
PROTOCOL = 1


def claim_data(claim: Claim) -> dict[str, object]:
    return {"requester": claim.source.value, "mode": claim.mode, "power_w": claim.power_w,
            "lease_s": claim.lease_s, "t": claim.t, "expires_at": claim.expires_at}


class SocketCommands:
    """The registry, bound to one supervisor and the socket's settings."""

    def __init__(self, supervisor: Supervisor, max_lease_s: Callable[[], float]) -> None:
        self._sup = supervisor
        self._max_lease_s = max_lease_s
        view, oper = Role.VIEWER, Role.OPERATOR
        self.registry: dict[str, Command] = {c.name: c for c in (
            Command("help", view, "", 0, 0, "the socket's commands", "help", self._help),
            Command("status", view, "", 0, 0, "state, winners, grid, SoC, power flows, faults",
                    "status", read.status),
            Command("faults", view, "", 0, 0, "latched faults with what to check", "faults",
                    read.faults),
            Command("log", view, "[N]", 0, 1, "the last N events (default 20, at most 200)",
                    "log 50", read.log),
            Command("limits", view, "", 0, 0, "configured, EV and arbitrated power limits",
                    "limits", read.limits),
            Command("version", view, "", 0, 0, "software and protocol version", "version",
                    self._version),
            Command("whoami", view, "", 0, 0, "role and connection of this client", "whoami",
                    read.whoami),
            Command("events", view, "on|off", 1, 1, "asynchronous events on this connection",
                    "events on", read.events),
            Command("claims", view, "", 0, 0, "every claim held now, with its lease",
                    "claims", self._claims),
            Command("claim", oper, "REQUESTER MODE|- POWER_W|- LEASE_S", 4, 4,
                    "claim a mode and/or a power limit for a lease (the same claim again renews "
                    "it, quietly)", "claim schedule charge 3500 60", self._claim),
            Command("release", oper, "REQUESTER", 1, 1, "withdraw a requester's claim",
                    "release schedule", self._release),
        )}

    def resolve(self, words: list[str]) -> tuple[Command, list[str]] | str:
        cmd = self.registry.get(words[0].lower())
        if cmd is None:
            return f"unknown command {words[0][:16]!r}: `help` lists the commands"
        args = words[1:]
        if not cmd.min_args <= len(args) <= cmd.max_args:
            return f"{cmd.name}: wrong number of arguments (usage: {cmd.usage})"
        return cmd, args

    # ----- handlers ----------------------------------------------------------------------
    def _help(self, ctx: CommandContext, args: list[str]) -> Reply:
        lines = [f"{c.usage:<44} {c.summary}" for c in self.registry.values()]
        return ok("\r\n".join(lines), commands=list(self.registry),
                  requesters=list(REQUESTERS), max_lease_s=self._max_lease_s())

    def _version(self, ctx: CommandContext, args: list[str]) -> Reply:
        reply = read.version(ctx, args)
        return ok(reply.text, **reply.data, socket_protocol=PROTOCOL)

    def _claims(self, ctx: CommandContext, args: list[str]) -> Reply:
        now = self._sup.clock.now()
        held = [claim_data(c) for c in self._sup.arbiter.claims.values()
                if c.expires_at is None or c.expires_at > now]
        return ok(f"{len(held)} claims held", claims=held, t=now)

    def _requester(self, word: str) -> Source | str:
        source = REQUESTERS.get(word.lower())
        if source is None:
            return (f"requester {word[:16]!r}: must be one of {', '.join(REQUESTERS)} (a "
                    "socket client never claims as technician, user or safety)")
        return source

    def _claim(self, ctx: CommandContext, args: list[str]) -> Reply:
        source = self._requester(args[0])
        if isinstance(source, str):
            return refuse(f"refused: {source}")
        mode = None if args[1] == NONE_WORD else args[1].lower()
        if mode is not None and mode not in MODES:
            return refuse(f"refused: mode {args[1][:16]!r}: must be one of {', '.join(MODES)} "
                          f"or {NONE_WORD}")
        power: float | None = None
        if args[2] != NONE_WORD:
            parsed = parse_number(args[2], "power_w", 0.0, MAX_POWER_W, " W")
            if isinstance(parsed, str):
                return refuse(f"refused: {parsed} (a magnitude; the mode gives the direction)")
            power = parsed
        lease = parse_number(args[3], "lease_s", 0.0, self._max_lease_s(), " s")
        if isinstance(lease, str):
            return refuse(f"refused: {lease} (every claim over the socket has a lease)")
        if lease <= 0.0:
            return refuse(f"refused: lease_s {args[3][:16]}: must be more than 0 s")
        if mode is None and power is None:
            return refuse("refused: the claim states neither a mode nor a power limit (to "
                          "withdraw a claim, `release` it)")
        now = self._sup.clock.now()
        renewed = self._sup.arbiter.renew(Claim(source, mode, power, lease, now), now)
        if renewed is not None:
            return ok(f"renewed: {source.value} claim for {lease:g} s from now",
                      **claim_data(renewed.claim))
        decision = self._sup.claim(source, mode, power, lease)
        if not decision.accepted:
            return refuse(f"refused: {decision.reason}", **claim_data(decision.claim))
        return ok(f"accepted as {source.value} claim for {lease:g} s (applied from the next "
                  "tick; renew it before the lease ends)", **claim_data(decision.claim))

    def _release(self, ctx: CommandContext, args: list[str]) -> Reply:
        source = self._requester(args[0])
        if isinstance(source, str):
            return refuse(f"refused: {source}")
        if not self._sup.release(source):
            return refuse(f"no {source.value} claim is held", requester=source.value)
        return ok(f"{source.value} claim released: the next requester's wish applies",
                  requester=source.value)
