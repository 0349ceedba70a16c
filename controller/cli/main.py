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

EPILOG = """\
examples:
  v2xctl run                          the built-in simulated charger (Ctrl-C stops it safely)
  v2xctl run --mode v2g --duration 60
                                      modes: idle, charge, v2h, v2g, v2l
  v2xctl run --config FILE            real hardware (hal.backend = "pi")
  v2xctl sim SCENARIO                 a scenario in virtual time; exit 1 when one fails
  v2xctl sim --format-reference       the scenario file format (docs/scenarios.md)
  v2xctl config check FILE            validate a config; v2xctl config doc: the reference
  v2xctl doctor                       installation and wiring checks (energises nothing)
  v2xctl console hash-pin             the salted hash of a console PIN for the config

v2xctl VERB --help for each verb; docs: README.md and docs/.
exit codes: 0 success, 1 a check failed or a safe shutdown was not confirmed, 2 bad input."""


def _version() -> str:
    try:
        return metadata.version("v2x-controller")
    except metadata.PackageNotFoundError:
        return controller.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v2xctl",
        description="Controller for a bidirectional EV charger on a Raspberry Pi: charge\n"
                    "(grid -> EV), V2H (EV -> home, no export), V2G (export on request),\n"
                    "V2L (an isolated outlet) and backup power through an outage.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
