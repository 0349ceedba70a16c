"""``v2xctl run``: the controller in real time, on real hardware or the built-in simulator."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType
from typing import Any

from controller.cli.numbers import positive_float
from controller.cli.sim_cmd import load_or_explain
from controller.config.loader import load_config_file, parse_config
from controller.config.model import Config
from controller.console.serve import built_in_console, start_console
from controller.modes.requests import MODES, Request
from controller.scenarios.runner import run_scenario
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from hal.errors import ConfigError, V2xError
from hal.registry import open_backend
from hal.systemd_notify import LoopWatchdog, SystemdNotifier

BUILT_IN_SIM = {"sequence": {"startup_request": "charge"}}
# The daemon runs for months: its in-memory logs keep the newest records only (the SQLite event
# log keeps everything).
DAEMON_HISTORY = 1000


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "run", help="run the controller in real time",
        description="Run the controller in real time. With no --config it runs the built-in "
                    "simulated charger (an EV plugged in at 50 %% SoC, charging). Ctrl-C or "
                    "SIGTERM ramps power to zero, opens every contactor and exits 0.")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (see docs/config.md)")
    parser.add_argument("--duration", metavar="S", type=positive_float,
                        help="stop safely after S seconds")
    parser.add_argument("--mode", choices=MODES,
                        help="operator request at start (default: sequence.startup_request)")
    parser.add_argument("--speed", type=positive_float, default=1.0, metavar="N",
                        help="simulator only: run N times faster than real time (default 1)")
    parser.add_argument("--scenario", metavar="FILE",
                        help="play a scenario file (docs/scenarios.md) on the simulated charger "
                             "in real time, or --speed N times faster")
    parser.set_defaults(handler=run)


class _StopFlag:
    def __init__(self) -> None:
        self.raised = False
        self.signal_name = ""

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.raised = True
        self.signal_name = signal.Signals(signum).name


def _load(args: argparse.Namespace) -> tuple[Config, str]:
    if args.config is None:
        console, note = built_in_console()
        return (parse_config({**BUILT_IN_SIM, **console}),
                "No config given: running the built-in simulated charger (sim backend).\n"
                + note)
    config = load_config_file(args.config)
    return config, f"Config {args.config}: backend {config.hal.backend}."


def _play(args: argparse.Namespace) -> int:
    scenario = load_or_explain(args.scenario)
    if scenario is None:
        return 2
    print(f"Playing scenario {scenario.name} on the built-in simulated charger "
          f"at {args.speed:g}x real time.", flush=True)
    interval = scenario.config.control.status_interval_s
    next_status = [0.0]

    def print_status(sup: Supervisor) -> None:
        if sup.clock.now() >= next_status[0]:
            print(sup.status().line(), flush=True)
            next_status[0] += interval

    stop = _StopFlag()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        report = run_scenario(scenario, speed=args.speed, progress=None, on_tick=print_status,
                              stop=lambda: stop.raised)
    except V2xError as err:
        print(f"cannot run {args.scenario}: {err}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop.raised:
        print(f"{stop.signal_name} received: scenario stopped safely", flush=True)
    verdict = "passed" if report["passed"] else "FAILED"
    print(f"scenario {scenario.name}: {verdict}", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)
    if args.duration is not None and args.duration <= 0:
        print(f"--duration {args.duration}: must be positive", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print(f"--speed {args.speed}: must be positive", file=sys.stderr)
        return 2
    if args.scenario is not None:
        if args.config is not None or args.mode is not None or args.duration is not None:
            print("--scenario carries its own config, requests and duration: do not combine "
                  "it with --config, --mode or --duration", file=sys.stderr)
            return 2
        return _play(args)
    try:
        config, banner = _load(args)
    except ConfigError as err:
        for problem in err.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    print(banner, flush=True)
    options: dict[str, object] = {}
    if config.hal.backend == "sim":
        options["speed"] = args.speed
    try:
        store = StateStore(config.store.path)
    except V2xError as err:
        print(f"cannot start: {err}", file=sys.stderr)
        return 2
    try:
        hardware = open_backend(config.hal, **options)
    except V2xError as err:
        store.close()  # nothing else was opened: the backend closes what it opened itself
        print(f"cannot start: {err}", file=sys.stderr)
        return 2
    supervisor = Supervisor(config, hardware, store, history=DAEMON_HISTORY)
    console, console_lines = start_console(supervisor, hardware, store)
    for console_line in console_lines:
        print(console_line, flush=True)
    if args.mode is not None:
        supervisor.set_request(Request(args.mode, None, "cli"))
    stop = _StopFlag()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    next_status = [hardware.clock.now()]
    notifier = SystemdNotifier()  # no-op unless systemd set $NOTIFY_SOCKET (Type=notify)
    liveness = LoopWatchdog(notifier)

    def print_status(sup: Supervisor) -> None:
        liveness.on_tick(healthy=sup.healthy)  # READY=1, WATCHDOG=1
        if console is not None:
            console.on_tick()  # non-blocking, budgeted; never raises
        if sup.clock.now() >= next_status[0]:
            line = sup.status().line()
            print(line, flush=True)
            notifier.status(line)
            next_status[0] += config.control.status_interval_s

    try:
        supervisor.run(duration_s=args.duration, stop=lambda: stop.raised, on_tick=print_status)
        if stop.raised:
            print(f"{stop.signal_name} received: stopping safely", flush=True)
        notifier.stopping("stopping: ramping down and opening every contactor")
        confirmed = supervisor.shutdown()
        for event in store.events(limit=1):
            print(event.text, flush=True)
    except BaseException:
        notifier.stopping("stopping after an error: outputs forced safe")
        raise
    finally:
        if console is not None:
            console.close()
        hardware.close()
        store.close()
        notifier.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if confirmed else 1
