"""The built-in EV scenarios (``scenarios/ev/``, issue 19): one per way a session ends."""

from __future__ import annotations

import subprocess
import sys
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


def test_v2xctl_sim_runs_several_files_and_fails_if_one_fails(tmp_path: Path) -> None:
    """``v2xctl sim scenarios/ev/*.toml`` (the issue's "done when"): every file runs, each gets
    its verdict, the exit code is 1 when any failed. Two real files and a copy of one with an
    expectation that cannot hold."""
    broken = tmp_path / "broken.toml"
    text = (ROOT / "scenarios" / "ev" / "incompatible.toml").read_text(encoding="utf-8")
    never = '\n[[expect]]\nkind = "state_at"\nat_s = 15\nstate = "energised_v2g"\n'
    broken.write_text(text + never, encoding="utf-8")
    files = [str(ROOT / "scenarios" / "ev" / n) for n in ("incompatible.toml",
                                                           "late-permission.toml")]
    ok = subprocess.run([sys.executable, "-m", "controller.cli.main", "sim", "--quiet", *files],
                        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("PASSED") == 2, ok.stdout
    assert "2 scenarios: 2 passed, 0 failed" in ok.stdout, ok.stdout
    bad = subprocess.run([sys.executable, "-m", "controller.cli.main", "sim", "--quiet",
                          files[0], str(broken)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "2 scenarios: 1 passed, 1 failed (" in bad.stdout and "broken.toml" in bad.stdout
