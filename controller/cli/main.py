"""``v2xctl``: run the controller, check a config, print references.

Exit codes: 0 success, 1 a check failed, 2 bad input (config, arguments, hardware that cannot be
opened). Setup errors print one clear line and energise nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

import controller
from controller.cli import (
    config_cmd,
    console_cmd,
    diagram_cmd,
    doctor_cmd,
    faults_cmd,
    log_cmd,
    run_cmd,
    sim_cmd,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _version() -> str:
    try:
        return metadata.version("v2x-controller")
    except metadata.PackageNotFoundError:
        return controller.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v2xctl",
        description="Controller for a bidirectional EV charger (charge, V2H) on a Raspberry Pi.",
    )
    parser.add_argument("--version", action="version", version=f"v2xctl {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    run_cmd.add_parser(verbs)
    sim_cmd.add_parser(verbs)
    config_cmd.add_parser(verbs)
    diagram_cmd.add_parser(verbs)
    doctor_cmd.add_parser(verbs)
    console_cmd.add_parser(verbs)
    faults_cmd.add_parser(verbs)
    log_cmd.add_parser(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
