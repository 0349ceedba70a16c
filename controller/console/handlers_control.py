"""Commands that ask something of the charger (operator and technician roles).

Every request goes through the supervisor's arbitration or its reset request; the console never
drives an output. The console claims as ``user`` for an operator and ``technician`` for a
technician (controller/console/roles.py).
"""

from __future__ import annotations

from controller.console.config_access import validate_set
from controller.console.context import CommandContext, Reply, ok, refuse
from controller.console.numbers import parse_number
from controller.console.roles import Role
from controller.modes.requests import MODES

W_PER_KW = 1000.0
MAX_POWER_KW = 32.0  # the largest power any config key allows


def _decision(ctx: CommandContext, mode: str | None, power_w: float | None) -> Reply:
    decision = ctx.bridge.claim(ctx.session.role, mode, power_w)
    source = "technician" if ctx.session.role is Role.TECHNICIAN else "user"
    if not decision.accepted:
        return refuse(f"refused: {decision.reason}", source=source)
    return ok(f"accepted as {source} request (applied from the next tick; `status` shows the "
              "winner)", source=source)


def mode(ctx: CommandContext, args: list[str]) -> Reply:
    name = args[0].lower()
    if name not in MODES:
        return refuse(f"mode {args[0][:16]!r}: must be one of {', '.join(MODES)}")
    if ctx.session.service and name != "idle":
        return refuse("refused: service mode holds the charger idle; `service off` first")
    before_w = ctx.bridge.claimed_power(ctx.session.role)
    return _replacing(_decision(ctx, name, None), before_w)


def _replacing(reply: Reply, dropped_w: float | None) -> Reply:
    """Say so when an accepted claim dropped the power limit of the role's earlier claim."""
    if not reply.ok or dropped_w is None:
        return reply
    return ok(f"{reply.text}; it replaces this role's earlier claim, so its "
              f"{dropped_w / W_PER_KW:.2f} kW limit no longer applies (`power KW` sets one "
              "again)", **reply.data, dropped_power_w=dropped_w)


def power(ctx: CommandContext, args: list[str]) -> Reply:
    kw = parse_number(args[0], "power", 0.0, MAX_POWER_KW)
    if isinstance(kw, str):
        return refuse(kw.replace(": must", ": KW must") + (
            " (a magnitude in kW; the mode gives the direction)"))
    # a claim replaces the role's previous one as a whole: keep the mode it stated
    return _decision(ctx, ctx.bridge.claimed_mode(ctx.session.role), kw * W_PER_KW)


def stop(ctx: CommandContext, args: list[str]) -> Reply:
    before_w = ctx.bridge.claimed_power(ctx.session.role)
    return _replacing(_decision(ctx, "idle", None), before_w)


def release(ctx: CommandContext, args: list[str]) -> Reply:
    if not ctx.bridge.release(ctx.session.role):
        return refuse("no console claim is held for your role")
    return ok("claim released: the next requester's wish applies")


def reset(ctx: CommandContext, args: list[str]) -> Reply:
    return ok(ctx.bridge.request_reset(ctx.session.role))


def config_set(ctx: CommandContext, args: list[str]) -> Reply:
    key, text = args[0], " ".join(args[1:])
    try:
        updated, effect = validate_set(ctx.bridge.config, key, text)
    except ValueError as err:
        return refuse(f"refused: {err}")
    if key.startswith("console."):
        ctx.console.apply_config(updated)
    return ok(f"{key}: {effect}", key=key, applied=key.startswith("console."),
              persisted=False)


def service(ctx: CommandContext, args: list[str]) -> Reply:
    choice = args[0].lower()
    if choice not in ("on", "off"):
        return refuse(f"service {args[0][:16]!r}: must be on or off")
    if choice == "off":
        if not ctx.session.service:
            return refuse("service mode is not on")
        return ok(ctx.console.end_service(ctx.session, "service off"), service=False)
    decision = ctx.bridge.claim(Role.TECHNICIAN, "idle", None)
    if not decision.accepted:
        return refuse(f"refused: {decision.reason}")
    ctx.session.service = True
    return ok("service mode on: the charger is held idle by the technician claim; it ends on "
              "`service off`, logout or timeout", service=True)


def contactor_test(ctx: CommandContext, args: list[str]) -> Reply:
    accepted, answer = ctx.bridge.contactor_test(args[0].lower())
    if not accepted:
        return refuse(f"refused: {answer}", reason=answer)
    return ok(answer, contactor=args[0].lower())
