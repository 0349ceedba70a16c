"""``v2xctl config check FILE`` and ``v2xctl config doc``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from controller.config.loader import load_config_file
from controller.config.reference import config_reference
from hal.errors import ConfigError


def add_parser(verbs: Any) -> None:
    config = verbs.add_parser("config", help="check a config file or print the reference",
                              description="Check a config file or print the config reference.")
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser(
        "check", help="validate a config file",
        description="Validate FILE: exit 0 when valid; otherwise exit 2 with one line per "
                    "problem naming the key, the bad value and what is allowed.")
    check.add_argument("file", metavar="FILE", help="TOML config file")
    check.set_defaults(handler=check_config)
    doc = actions.add_parser("doc", help="print the config reference (docs/config.md)",
                             description="Print the Markdown config reference generated from "
                                         "the code.")
    doc.set_defaults(handler=print_reference)


def check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config_file(args.file)
    except ConfigError as err:
        for problem in err.problems:  # file-level problems name the file already
            line = problem if problem.startswith(f"{args.file}: ") else f"{args.file}: {problem}"
            print(line, file=sys.stderr)
        return 2
    print(f"{args.file}: valid (backend {config.hal.backend})")
    return 0


def print_reference(_args: argparse.Namespace) -> int:
    sys.stdout.write(config_reference())
    return 0
