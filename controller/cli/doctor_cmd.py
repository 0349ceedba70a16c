"""``v2xctl doctor``: check the installation and the wiring; never energises anything."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from controller.config.loader import load_config_file
from controller.doctor import Check, run_doctor
from controller.doctor.report import EXIT_BAD_CONFIG
from hal.errors import ConfigError
from simulation.training_faults import SIM_FAULTS, prepare_faults


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "doctor", help="check the installation and wiring (energises nothing)",
        description="Check Python and packages, the config, every I2C chip, GPIO input and "
                    "contactor aux contact, the CAN interfaces and the inverter, the console "
                    "ports, the state directory and the watchdog. One line per check "
                    "(PASS, FAIL or SKIP) and a hint for each FAIL. Nothing is energised: "
                    "contactors are constructed de-energised and only inputs are read. With no "
                    "--config it checks the built-in simulated charger. Exit 0 when nothing "
                    "failed, 1 when a check failed, 2 when the config cannot be used.")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (see docs/config.md)")
    # Simulator-only training option (docs/doctor.md): plant a fault in the simulated charger
    # before the checks, to practise reading the FAIL lines. Hidden from --help.
    parser.add_argument("--sim-fault", action="append", default=[], choices=sorted(SIM_FAULTS),
                        metavar="NAME", help=argparse.SUPPRESS)
    parser.set_defaults(handler=doctor)


def _print(check: Check) -> None:
    for line in check.lines():
        print(line, flush=True)


def doctor(args: argparse.Namespace) -> int:
    prepare = None
    if args.sim_fault:
        if _backend(args.config) != "sim":
            print("--sim-fault is a simulator-only training option; the config selects real "
                  "hardware", file=sys.stderr)
            return EXIT_BAD_CONFIG
        prepare = prepare_faults(args.sim_fault)
        print("training: simulator faults planted: " + ", ".join(args.sim_fault), flush=True)
    report = run_doctor(args.config, prepare=prepare, emit=_print)
    print(report.summary(), flush=True)
    return report.exit_code


def _backend(config_path: str | None) -> str:
    """The configured backend ("sim" without a config, or when the doctor will report it)."""
    if config_path is None:
        return "sim"
    try:
        return load_config_file(config_path).hal.backend
    except ConfigError:
        return "sim"  # the config check reports every problem
