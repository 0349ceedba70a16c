"""``v2xctl sim SCENARIO...``: run scenarios in virtual time and check their expectations."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from hal.errors import V2xError
from simulation.scenarios.reference import scenario_reference
from simulation.scenarios.report import write_report
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import Scenario, ScenarioError, load_scenario


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "sim", help="run a scenario file in virtual time and check its expectations",
        description="Run SCENARIO (see docs/scenarios.md) against the simulated charger as "
                    "fast as the machine allows. Exit 0 when every expectation holds, 1 when "
                    "one fails (or an invariant is violated), 2 when the file is invalid.")
    parser.add_argument("scenarios", metavar="SCENARIO", nargs="*",
                        help="scenario TOML file(s); several run one after another "
                             "(`v2xctl sim scenarios/ev/*.toml`), exit 1 if any fails")
    parser.add_argument("--format-reference", action="store_true",
                        help="print the generated format reference of docs/scenarios.md")
    parser.add_argument("--report", metavar="FILE", type=Path,
                        help="write the JSON report here")
    parser.add_argument("--timeseries", metavar="FILE", type=Path,
                        help="write a CSV time series here (period: scenario.sample_s)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress indicator; print only the verdict")
    parser.set_defaults(handler=sim)


def load_or_explain(path: str) -> Scenario | None:
    """The scenario, or None after printing one line per problem (the caller exits 2)."""
    try:
        return load_scenario(path)
    except ScenarioError as err:
        for problem in err.problems:
            line = problem if problem.startswith(str(path)) else f"{path}: {problem}"
            print(line, file=sys.stderr)
        return None


def output_problem(option: str, path: Path) -> str | None:
    """Why ``path`` cannot be written (checked before a run, so a run is never wasted)."""
    parent = path.parent
    if path.is_dir():
        return f"{option} {path}: is a directory"
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        return f"{option} {path}: the directory {parent} {what}"
    writable = os.access(path, os.W_OK) if path.exists() else os.access(parent, os.W_OK)
    if not writable:
        return f"{option} {path}: permission denied"
    return None


def progress_stream(quiet: bool, stream: TextIO) -> TextIO | None:
    """Progress frames (redrawn with carriage returns) go only to a terminal, never a log."""
    if quiet or not stream.isatty():
        return None
    return stream


def sim(args: argparse.Namespace) -> int:
    if args.format_reference:
        sys.stdout.write(scenario_reference())
        return 0
    if not args.scenarios:
        print("v2xctl sim: a SCENARIO file is required", file=sys.stderr)
        return 2
    if len(args.scenarios) > 1:
        return _sim_many(args)
    args.scenario = args.scenarios[0]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(message)s")
    outputs = (("--report", args.report), ("--timeseries", args.timeseries))
    problems = [p for option, path in outputs if path is not None
                for p in [output_problem(option, path)] if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    scenario = load_or_explain(args.scenario)
    if scenario is None or problems:
        return 2
    stream = None
    try:
        if args.timeseries is not None:
            stream = args.timeseries.open("w", newline="", encoding="utf-8")
        report = run_scenario(scenario, progress=progress_stream(args.quiet, sys.stderr),
                              timeseries=stream)
    except (V2xError, OSError) as err:
        print(f"cannot run {args.scenario}: {err}", file=sys.stderr)
        return 2
    finally:
        if stream is not None:
            stream.close()
    _print_summary(report, quiet=args.quiet)
    if args.report is not None:
        try:
            write_report(report, args.report)
        except OSError as err:  # checked before the run; e.g. the disk filled up since
            print(f"--report {args.report}: cannot write: {err.strerror or err}",
                  file=sys.stderr)
            return 2
    return 0 if report["passed"] else 1


def _print_summary(report: dict[str, Any], quiet: bool) -> None:
    wall = max(report["wall_s"], 1e-9)
    if not quiet:
        print(f"scenario {report['scenario']} (seed {report['seed']}): "
              f"{report['duration_s']:g} s simulated in {wall:.2f} s "
              f"({report['duration_s'] / wall:.0f}x real time)")
        for exp in report["expectations"]:
            mark = "PASS" if exp["passed"] else "FAIL"
            print(f"  {mark} expect[{exp['index']}] {exp['kind']}: {exp['explanation']}")
        for v in report["invariant_violations"][:10]:
            print(f"  FAIL invariant {v['invariant']} at {v['t']:.3f} s: {v['text']}")
    verdict = "PASSED" if report["passed"] else "FAILED"
    failed = [e for e in report["expectations"] if not e["passed"]]
    extra = f" ({len(failed)} expectation(s) failed" if failed else ""
    if report["invariant_violations"]:
        extra += (", " if extra else " (") + f"{len(report['invariant_violations'])} " \
                 "invariant violation(s)"
    print(f"{verdict}: {report['scenario']}{extra + ')' if extra else ''}")


def _sim_many(args: argparse.Namespace) -> int:
    """Several files: all are loaded first (any invalid: exit 2, nothing run), then each runs
    with its own summary; a last line counts them. ``--report``/``--timeseries`` take one file."""
    if args.report is not None or args.timeseries is not None:
        print("v2xctl sim: --report and --timeseries take a single SCENARIO", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(message)s")
    loaded = [(path, load_or_explain(path)) for path in args.scenarios]
    scenarios = [(path, s) for path, s in loaded if s is not None]
    if len(scenarios) != len(loaded):
        return 2
    failed: list[str] = []
    for path, scenario in scenarios:
        try:
            report = run_scenario(scenario, progress=progress_stream(args.quiet, sys.stderr))
        except (V2xError, OSError) as err:
            print(f"cannot run {path}: {err}", file=sys.stderr)
            return 2
        _print_summary(report, quiet=args.quiet)
        if not report["passed"]:
            failed.append(path)
    passed = len(scenarios) - len(failed)
    which = f" ({', '.join(failed)})" if failed else ""
    print(f"{len(scenarios)} scenarios: {passed} passed, {len(failed)} failed{which}")
    return 1 if failed else 0

