"""``plan``: print (and optionally plot) the plan for now from a planner config.

    python -m gateway.planner plan --config planner.toml --soc 45 [--away] [--at ISO]
                                   [--every 4] [--plot plan.png]

Exit status 0 on a plan, 2 on bad input (the message names the file, key or row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.planner import config as planner_config
from gateway.planner.inputs import build_problem
from gateway.planner.model import PlannerInputError
from gateway.planner.optimiser import solve
from gateway.planner.report import plot, table


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="plan", description="The home energy plan for now.")
    sub = ap.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("plan", help="print the plan as a table")
    p.add_argument("--config", type=Path, required=True, help="the planner's TOML file")
    p.add_argument("--soc", type=float, required=True, help="the EV's SoC now, percent")
    p.add_argument("--away", action="store_true", help="the car is not plugged in now")
    p.add_argument("--at", help="plan as of this ISO 8601 time (default: now)")
    p.add_argument("--every", type=int, default=1, help="print every Nth step (default 1)")
    p.add_argument("--plot", type=Path, help="also draw the plan to this PNG file")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if not math.isfinite(args.soc) or not 0 <= args.soc <= 100:
            raise PlannerInputError(f"--soc {args.soc}: a finite percentage 0..100")
        if args.every < 1:
            raise PlannerInputError(f"--every {args.every}: must be >= 1")
        now = dt.datetime.now(dt.UTC) if args.at is None else dt.datetime.fromisoformat(args.at)
        cfg = planner_config.load(args.config)
        problem, notes = build_problem(cfg, now, args.soc, not args.away)
    except (PlannerInputError, ValueError) as err:
        print(f"plan: {err}", file=sys.stderr)
        return 2
    plan = solve(problem)
    print(table(plan, problem, args.every))
    for note in notes:
        print(f"note: {note}")
    if args.plot is not None:
        try:
            plot(plan, args.plot)
        except RuntimeError as err:
            print(f"plan: {err}", file=sys.stderr)
            return 2
        print(f"plot written to {args.plot}")
    return 0
