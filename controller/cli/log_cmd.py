"""``v2xctl log``: the event log and the console audit from the state database, read only.

Both are shown in time order; ``--only events`` or ``--only audit`` picks one. Safe while the
controller runs (``controller/store/reader.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from controller.cli.store_args import (
    BadArgument,
    StoreReadError,
    add_store_options,
    finite,
    iso,
    open_reader,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2
DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "log", help="show the event log and the console audit (read only)",
        description="Show the event log (states, faults, resets, requests) and the console "
                    "audit (logins, lock-outs, privileged commands) from the state database, "
                    "oldest first. Read only; safe while the controller runs.")
    add_store_options(parser)
    parser.add_argument("--only", choices=("events", "audit"), default=None,
                        help="show one of the two")
    parser.add_argument("--limit", metavar="N", default=str(DEFAULT_LIMIT),
                        help=f"the latest N records of each (1 to {MAX_LIMIT}, default "
                             f"{DEFAULT_LIMIT})")
    parser.set_defaults(handler=log_cmd)


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadArgument(f"--limit {text[:20]!r}: expected a whole number from 1 to "
                          f"{MAX_LIMIT}")
    return int(text)


def _read(args: argparse.Namespace) -> dict[str, Any]:
    limit = _limit(args.limit)
    reader, since = open_reader(args, time.time())
    with reader:
        events = [] if args.only == "audit" else reader.events(since=since, limit=limit)
        audit = [] if args.only == "events" else reader.audit(since=since, limit=limit)
    return {
        "database": reader.path,
        "events": [{"time": iso(e.wall_time), "wall_time": finite(e.wall_time),
                    "t": finite(e.t), "kind": e.kind, "text": e.text} for e in events],
        "audit": [{"time": iso(a.wall_time), "wall_time": finite(a.wall_time),
                   "t": finite(a.t), "port": a.port, "role": a.role, "command": a.command,
                   "outcome": a.outcome} for a in audit],
    }


def log_cmd(args: argparse.Namespace) -> int:
    try:
        data = _read(args)
    except (BadArgument, StoreReadError) as err:
        print(f"v2xctl log: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    lines = [(e["wall_time"], f"{e['time']}  {e['kind']:<9} {e['text']}")
             for e in data["events"]]
    lines += [(a["wall_time"], f"{a['time']}  console   {a['port']} {a['role']}: "
                               f"{a['command']} -> {a['outcome']}") for a in data["audit"]]
    if not lines:
        print("nothing recorded" + ("" if args.since is None else f" since {args.since}"))
    for _, line in sorted(lines, key=lambda pair: -math.inf if pair[0] is None else pair[0]):
        print(line)
    return EXIT_OK
