"""The built-in EV scenarios (``scenarios/ev/``, issue 19): one per way a session ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.scenarios.runner import run_file

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios" / "ev").glob("*.toml"))


def test_there_is_a_scenario_per_ending() -> None:
    assert len(SCENARIOS) >= 15


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_ev_scenario_passes(path: Path) -> None:
    report = run_file(path, progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], (failed, report["invariant_violations"][:3])


def test_the_scenarios_readme_lists_them() -> None:
    readme = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    for path in SCENARIOS:
        assert f"`ev/{path.name}`" in readme, path.name
