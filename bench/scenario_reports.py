"""Every scenario file's JSON report, without its wall-clock fields, for comparing two versions.

Speed work must not change behaviour (docs/performance.md, "Checking that nothing changed"):
run this on the old and the new code into two directories and compare them; the reports must
be identical, byte for byte (same seed, same plant, same decisions).

    .venv/bin/python bench/scenario_reports.py OUT_DIR [SCENARIO ...]   # default: scenarios/**
    diff -r old_dir new_dir
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import load_scenario

ROOT = Path(__file__).resolve().parent.parent
WALL_FIELDS = ("wall_s", "wall")


def _strip(value: Any) -> Any:
    """The report without its wall-clock fields, and the scenario's path relative to the tree
    (so a copy of the old code in another directory compares equal)."""
    if isinstance(value, dict):
        return {k: _relative(v) if k == "source" else _strip(v)
                for k, v in value.items() if k not in WALL_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _relative(source: Any) -> Any:
    if isinstance(source, str) and source.startswith(str(ROOT) + "/"):
        return source[len(str(ROOT)) + 1:]
    return source


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    files = [Path(a) for a in argv[1:]] or sorted((ROOT / "scenarios").rglob("*.toml"))
    start = time.process_time()
    for path in files:
        report = run_scenario(load_scenario(path), progress=None)
        name = str(path.resolve().relative_to(ROOT)).replace("/", "__") + ".json"
        (out / name).write_text(json.dumps(_strip(report), indent=1, sort_keys=True) + "\n")
    print(f"{len(files)} reports in {out} ({time.process_time() - start:.1f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
