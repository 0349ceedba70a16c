"""``v2xctl run``: the controller in real time, on real hardware or the built-in simulator."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType
from typing import Any

from controller.cli.logging_setup import configure_logging
from controller.cli.numbers import positive_float
from controller.cli.run_output import (
    GuardedCallback,
    OutputStream,
    StatusPrinter,
    is_journal,
    paced_like_the_journal,
)
from controller.cli.sim_cmd import load_or_explain
from controller.config.loader import load_config_file, parse_config
from controller.config.model import Config
from controller.console.serve import built_in_console, start_console
from controller.control_socket.lock import SocketLock
from controller.control_socket.serve import claim_simulator_socket, start_control_socket
from controller.modes.requests import MODES, Request
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from hal.errors import ConfigError, V2xError
from hal.interfaces.hardware import Hardware
from hal.registry import open_backend
from hal.systemd_notify import LoopWatchdog, SystemdNotifier
from simulation.scenarios.runner import run_scenario

BUILT_IN_SIM = {"sequence": {"startup_request": "charge"}}
# The daemon runs for months: its in-memory logs keep the newest records only (the SQLite event
# log keeps everything).
DAEMON_HISTORY = 1000

log = logging.getLogger("v2x.run")


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "run", help="run the controller in real time",
        description="Run the controller in real time. With no --config it runs the built-in "
                    "simulated charger (an EV plugged in at 50 % SoC, charging). Ctrl-C, "
                    "SIGTERM, a terminal hang-up or a closed output (`| head`) ramps the "
                    "power to zero, opens every contactor and exits 0 (1 when the safe "
                    "shutdown cannot be confirmed). Under systemd the log carries journald "
                    "priorities and the status line is paced by "
                    "control.status_log_interval_s (README.md, 'Output and logs').")
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


# A terminal hang-up (SSH dropped) stops the run safely too, instead of killing it mid-charge.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SIGNAL_NOTES = {"SIGINT": "Ctrl-C", "SIGTERM": "e.g. systemctl stop",
                "SIGHUP": "the terminal hung up"}


class _StopFlag:
    """Set by a stop signal; the loop checks it every tick (handlers do nothing else)."""

    def __init__(self) -> None:
        self.raised = False
        self.signal_name = ""

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if not self.raised:  # a second Ctrl-C during the ramp-down changes nothing
            self.raised = True
            self.signal_name = signal.Signals(signum).name

    @property
    def why(self) -> str:
        return f"{self.signal_name}, {SIGNAL_NOTES.get(self.signal_name, 'a signal')}"

    def install(self) -> dict[int, Any]:
        return {sig: signal.signal(sig, self) for sig in STOP_SIGNALS}


def _load(args: argparse.Namespace) -> tuple[Config, str, SocketLock | None]:
    """The config, the banner and (built-in simulator) its socket path's lock, already held."""
    if args.config is None:
        console, note = built_in_console()
        lock = claim_simulator_socket()  # the path is ours from here: no check-then-bind race
        try:
            sockets = {"control_socket": {"path": lock.path}}
            config = parse_config({**BUILT_IN_SIM, **console, **sockets})
        except BaseException:
            lock.release()
            raise
        return (config, "No config given: running the built-in simulated charger (sim "
                "backend).\n" + note, lock)
    config = load_config_file(args.config)
    return config, f"Config {args.config}: backend {config.hal.backend}.", None


def _play(args: argparse.Namespace, out: OutputStream, err: OutputStream) -> int:
    scenario = load_or_explain(args.scenario)
    if scenario is None:
        return 2
    out.write_line(f"Playing scenario {scenario.name} on the built-in simulated charger "
                   f"at {args.speed:g}x real time.")
    printer = StatusPrinter(out, scenario.config.control.status_interval_s, 0.0)

    def print_status(sup: Supervisor) -> None:
        printer.maybe_print(sup.clock.now(), sup.status)

    stop = _StopFlag()
    previous = stop.install()
    try:
        report = run_scenario(scenario, speed=args.speed, progress=None, on_tick=print_status,
                              stop=lambda: stop.raised or out.broken or err.broken)
    except V2xError as error:
        err.write_line(f"cannot run {args.scenario}: {error}")
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop.raised:
        out.write_line(f"{stop.signal_name} received: scenario stopped safely")
    verdict = "passed" if report["passed"] else "FAILED"
    out.write_line(f"scenario {scenario.name}: {verdict}")
    return 0


def _open(config: Config, options: dict[str, object],
          err: OutputStream) -> tuple[Hardware, StateStore] | None:
    """The hardware first, then the store: a start that fails on the hardware (a ``pi`` config
    off a Pi) leaves no state database behind."""
    try:
        hardware = open_backend(config.hal, **options)
    except V2xError as error:  # the backend closed what it had opened itself
        err.write_line(f"cannot start: {error}")
        return None
    try:
        store = StateStore.from_settings(config.store)
    except V2xError as error:
        hardware.close()  # de-energised from construction; close never raises
        err.write_line(f"cannot start: {error}")
        return None
    return hardware, store


def _check_args(args: argparse.Namespace, err: OutputStream) -> bool:
    if args.duration is not None and args.duration <= 0:
        err.write_line(f"--duration {args.duration}: must be positive")
        return False
    if args.speed <= 0:
        err.write_line(f"--speed {args.speed}: must be positive")
        return False
    if args.scenario is not None and (args.config is not None or args.mode is not None
                                      or args.duration is not None):
        err.write_line("--scenario carries its own config, requests and duration: do not "
                       "combine it with --config, --mode or --duration")
        return False
    return True


def run(args: argparse.Namespace) -> int:
    out, err = OutputStream(sys.stdout, "stdout"), OutputStream(sys.stderr, "stderr")
    configure_logging(err, journal=is_journal(sys.stderr, os.environ))
    if not _check_args(args, err):
        return 2
    if args.scenario is not None:
        return _play(args, out, err)
    try:
        config, banner, lock = _load(args)
    except ConfigError as error:
        for problem in error.problems:
            err.write_line(f"config error: {problem}")
        return 2
    except V2xError as error:  # the built-in simulator's socket directory or lock
        err.write_line(f"cannot start: {error}")
        return 2
    out.write_line(banner)
    options: dict[str, object] = {}
    if config.hal.backend == "sim":
        options["speed"] = args.speed
    opened = _open(config, options, err)
    if opened is None:
        if lock is not None:
            lock.release()
        return 2
    hardware, store = opened
    return _serve(args, config, hardware, store, out, err, lock)


def _serve(args: argparse.Namespace, config: Config, hardware: Hardware, store: StateStore,
           out: OutputStream, err: OutputStream, lock: SocketLock | None) -> int:
    """Run until the duration, a stop signal or a closed output; then the safe shutdown."""
    supervisor = Supervisor(config, hardware, store, history=DAEMON_HISTORY)
    console, console_lines = start_console(supervisor, hardware, store)
    try:
        control, control_lines = start_control_socket(supervisor, lock)
    except V2xError as error:  # nothing is energised yet: close what is open and say why
        if console is not None:
            console.close()
        hardware.close()
        store.close()
        err.write_line(f"cannot start: {error}")
        return 2
    for console_line in console_lines + control_lines:
        out.write_line(console_line)
    if args.mode is not None:
        supervisor.set_request(Request(args.mode, None, "cli"))
    stop = _StopFlag()
    previous = stop.install()
    interval = (config.control.status_log_interval_s
                if paced_like_the_journal(sys.stdout, os.environ)
                else config.control.status_interval_s)
    printer = StatusPrinter(out, interval, hardware.clock.now())
    notifier = SystemdNotifier()  # no-op unless systemd set $NOTIFY_SOCKET (Type=notify)
    liveness = LoopWatchdog(notifier)
    next_notify = [hardware.clock.now()]

    def while_stopping(sup: Supervisor) -> None:  # output errors only mark the stream
        if console is not None:
            console.on_tick()  # non-blocking, budgeted; never raises
        if control is not None:
            control.on_tick()  # the same: controller/control_socket/server.py
        printer.maybe_print(sup.clock.now(), sup.status)

    def running(sup: Supervisor) -> None:
        liveness.on_tick(healthy=sup.healthy)  # READY=1, WATCHDOG=1 (none after STOPPING=1)
        while_stopping(sup)
        now = sup.clock.now()
        if now >= next_notify[0]:  # `systemctl status` shows the live line, never journaled
            notifier.status(sup.status().line())
            out.check()  # a reader gone while nothing was written is a stop request too
            err.check()
            next_notify[0] = max(next_notify[0] + config.control.status_interval_s, now)

    on_tick = GuardedCallback(running)
    confirmed = False
    try:
        supervisor.run(duration_s=args.duration, on_tick=on_tick,
                       stop=lambda: stop.raised or out.broken or err.broken
                       or bool(on_tick.failure))
        by, why = _stop_cause(args, stop, out, err, on_tick.failure)
        if stop.raised:
            out.write_line(f"{stop.signal_name} received: stopping safely")
        notifier.stopping("stopping: ramping down and opening every contactor")
        printer.print_now()  # the stop shows at once
        confirmed = supervisor.shutdown(requested_by=by, why=why,
                                        on_tick=GuardedCallback(while_stopping))
        for event in store.events(limit=2):  # what the shutdown did, then its verdict
            out.write_line(event.text)
    except BaseException:
        notifier.stopping("stopping after an error: outputs forced safe")
        raise
    finally:
        if console is not None:
            console.close()
        if control is not None:
            control.close()
        hardware.close()
        store.close()
        notifier.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if confirmed else 1


def _stop_cause(args: argparse.Namespace, stop: _StopFlag, out: OutputStream,
                err: OutputStream, failure: str) -> tuple[str, str]:
    """Who asked for the stop and why, for the log (the first cause wins)."""
    if stop.raised:
        return "the user", stop.why
    for stream in (out, err):
        if stream.broken:
            return "the user", stream.stop_reason
    if failure:
        return "the controller", f"its per-tick output failed: {failure}"
    return "the user", f"--duration {args.duration:g} s passed"
