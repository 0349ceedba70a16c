"""``v2xctl console hash-pin``: the salted scrypt hash of a console PIN, for the config file."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from controller.console.pin_hash import (
    DEFAULT_N,
    MAX_N,
    PIN_MAX_DIGITS,
    PIN_MIN_DIGITS,
    PIN_RECOMMENDED_DIGITS,
    hash_pin,
    pin_problem,
)


def add_parser(verbs: Any) -> None:
    console = verbs.add_parser("console", help="technician console tools (docs/console.md)",
                               description="Technician console tools.")
    actions = console.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    hasher = actions.add_parser(
        "hash-pin", help="print the salted scrypt hash of a PIN",
        description=f"Ask for a PIN ({PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits; "
                    f"{PIN_RECOMMENDED_DIGITS} or more recommended) twice without echo and print "
                    "its salted scrypt hash for console.operator_pin_hash or "
                    "console.technician_pin_hash. The PIN itself is stored nowhere.")
    hasher.add_argument("--stdin", action="store_true",
                        help="read the PIN from the first line of standard input (scripts)")
    hasher.add_argument("--cost", type=int, default=DEFAULT_N, metavar="N",
                        help=f"scrypt cost N, a power of two (default {DEFAULT_N}); the config "
                             "refuses hashes below console.min_scrypt_n")
    hasher.set_defaults(handler=hash_pin_cmd)


def _read_pin(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("PIN: ")
    if getpass.getpass("PIN again: ") != first:
        print("the PINs differ; nothing printed", file=sys.stderr)
        return None
    return first


def hash_pin_cmd(args: argparse.Namespace) -> int:
    cost = args.cost
    if cost < 2 or cost > MAX_N or cost & (cost - 1):
        print(f"--cost {cost}: must be a power of two from 2 to {MAX_N}", file=sys.stderr)
        return 2
    pin = _read_pin(args.stdin)
    if pin is None:
        return 2
    problem = pin_problem(pin)
    if problem:
        print(f"PIN refused: {problem}", file=sys.stderr)
        return 2
    if len(pin) < PIN_RECOMMENDED_DIGITS:
        print(f"note: {PIN_RECOMMENDED_DIGITS} or more digits are recommended (a {len(pin)}-digit "
              "PIN is guessed in weeks at the lock-out rate; docs/console.md)", file=sys.stderr)
    print(hash_pin(pin, n=cost))
    return 0
