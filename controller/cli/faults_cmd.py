"""``v2xctl faults``: the latched faults in the state database, read only.

Safe while the controller runs (``controller/store/reader.py``). It only reads: clearing a fault
is the technician console's ``reset`` (docs/console.md), never this command.
"""

from __future__ import annotations

import argparse
import json
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
from controller.faults import CATALOGUE
from controller.store.reader import FaultRow

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "faults", help="list the latched faults (read only, safe while the controller runs)",
        description="List the latched faults from the state database: what latched, when, "
                    "what to check and who may clear it. Read only; a technician clears them "
                    "on the console (login, then reset).")
    add_store_options(parser)
    parser.add_argument("--all", action="store_true",
                        help="also the faults already cleared, with the time they were")
    parser.set_defaults(handler=faults_cmd)


def _record(row: FaultRow) -> dict[str, Any]:
    kind = CATALOGUE.get(row.code)
    return {
        "code": row.code,
        "detail": row.detail,
        "latched_at": iso(row.wall_time),
        "wall_time": finite(row.wall_time),
        "active": row.active,
        "cleared_at": iso(row.cleared_wall_time),
        "severity": kind.severity.value if kind else None,
        "clear_by": kind.clear_by.value if kind else None,
        "check": kind.check if kind else None,
    }


def _text(record: dict[str, Any]) -> str:
    state = "ACTIVE" if record["active"] else f"cleared {record['cleared_at']}"
    head = f"{record['latched_at']}  {record['code']}  {state}"
    if record["severity"]:
        head += f" ({record['severity']}; a reset by the {record['clear_by']} clears it)"
    lines = [head, f"    {record['detail']}"]
    if record["check"]:
        lines.append(f"    check: {record['check']}")
    return "\n".join(lines)


def faults_cmd(args: argparse.Namespace) -> int:
    try:
        reader, since = open_reader(args, time.time())
    except (BadArgument, StoreReadError) as err:
        print(f"v2xctl faults: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with reader:
        try:
            rows = reader.faults(since=since, include_cleared=args.all)
        except StoreReadError as err:
            print(f"v2xctl faults: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
    records = [_record(row) for row in rows]
    if args.json:
        print(json.dumps({"database": reader.path, "faults": records}, indent=2))
    elif not records:
        print("no latched faults" if not args.all else "no faults recorded")
    else:
        print("\n".join(_text(r) for r in records))
        if any(r["active"] for r in records):
            print("clear them on the technician console: login, then reset (hw/README.md, "
                  "\"Technician console\")")
    return EXIT_OK
