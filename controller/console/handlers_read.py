"""Read-only commands (role viewer): nothing here asks the supervisor for anything."""

from __future__ import annotations

import dataclasses
import json
from importlib import metadata

import controller
from controller.console import render
from controller.console.config_access import lookup
from controller.console.context import CommandContext, Reply, ok, refuse

LOG_DEFAULT = 20
LOG_MAX = 200


def status(ctx: CommandContext, args: list[str]) -> Reply:
    st = ctx.bridge.status()
    temps = ctx.bridge.temperatures()
    return ok(render.status_text(st, temps), **dataclasses.asdict(st), temperatures=temps)


def faults(ctx: CommandContext, args: list[str]) -> Reply:
    rows = ctx.bridge.faults()
    return ok(render.faults_text(rows), faults=rows)


def log(ctx: CommandContext, args: list[str]) -> Reply:
    count = LOG_DEFAULT
    if args:
        if not args[0].isdigit() or not 1 <= int(args[0]) <= LOG_MAX:
            return refuse(f"log {args[0][:16]!r}: N must be a whole number from 1 to {LOG_MAX}")
        count = int(args[0])
    events = ctx.bridge.events(count)
    rows = [dataclasses.asdict(e) for e in events]
    return ok(render.events_text(events), events=rows)


def limits(ctx: CommandContext, args: list[str]) -> Reply:
    data = ctx.bridge.limits()
    return ok(render.limits_text(data), **data)


def version(ctx: CommandContext, args: list[str]) -> Reply:
    try:
        number = metadata.version("v2x-controller")
    except metadata.PackageNotFoundError:
        number = controller.__version__
    return ok(f"v2x-controller {number}, console protocol 1", version=number, protocol=1)


def whoami(ctx: CommandContext, args: list[str]) -> Reply:
    s = ctx.session
    text = f"{s.role.label} on {s.port}" + (", service mode" if s.service else "")
    return ok(text, role=s.role.label, port=s.port, service=s.service)


def selftest(ctx: CommandContext, args: list[str]) -> Reply:
    checks = ctx.bridge.selftest()
    passed = all(good for _, good, _ in checks)
    text = render.selftest_text(checks) + f"\r\nselftest {'passed' if passed else 'FAILED'}"
    return ok(text, passed=passed,
              checks=[{"name": n, "ok": g, "detail": d} for n, g, d in checks])


def config_get(ctx: CommandContext, args: list[str]) -> Reply:
    try:
        value = lookup(ctx.bridge.config, args[0])
    except KeyError as err:
        return refuse(str(err.args[0]))
    shown = json.dumps(value, default=str) if isinstance(value, dict | list) else repr(value)
    return ok(f"{args[0]} = {shown}", key=args[0], value=value)


def watch(ctx: CommandContext, args: list[str]) -> Reply:
    ctx.session.watching = True
    ctx.session.next_watch = ctx.bridge.now()
    return ok("watching: press any key to stop")


def events(ctx: CommandContext, args: list[str]) -> Reply:
    choice = args[0].lower()
    if choice not in ("on", "off"):
        return refuse(f"events {args[0][:16]!r}: must be on or off")
    ctx.session.events = choice == "on"
    ctx.session.last_seen = None
    return ok(f"state-change events {choice}", events=ctx.session.events)
