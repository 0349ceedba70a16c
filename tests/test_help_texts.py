"""What a user reads before running anything: help texts, README, ./dev, CI, packaging."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from controller.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MODES = ("idle", "charge", "v2h", "v2g", "v2l")
# Commands a user must be able to find from the top-level help and the README.
COMMANDS = ("v2xctl run", "v2xctl sim", "v2xctl config check", "v2xctl config doc",
            "v2xctl diagram", "v2xctl doctor", "v2xctl console hash-pin",
            "v2xctl sim --format-reference")


def top_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main(["--help"])
    return capsys.readouterr().out


def test_run_help_prints_a_plain_percent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "50 % SoC" in " ".join(text.split())
    assert "%%" not in text


def test_top_level_help_names_every_mode_and_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(top_help(capsys).split())
    for mode in MODES[1:]:
        assert mode.upper() in text.upper(), mode
    for command in COMMANDS:
        assert command.removeprefix("v2xctl ") in text, command


def test_readme_command_table_names_every_mode_and_command() -> None:
    table = "\n".join(line for line in README.splitlines() if line.startswith("| `v2xctl"))
    for mode in MODES:
        assert mode in table, mode
    for command in COMMANDS:
        assert f"`{command}" in table, command


def test_every_verb_the_parser_knows_is_in_the_readme_table() -> None:
    verbs = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    table = [line for line in README.splitlines() if line.startswith("| `v2xctl")]
    for verb in verbs:
        assert any(f"`v2xctl {verb}" in line for line in table), verb


def test_readme_links_every_doc_page() -> None:
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in README, page.name


def test_readme_attach_command_is_one_the_venv_has() -> None:
    """pyserial (a dependency) ships miniterm; picocom may not be installed."""
    assert "serial.tools.miniterm" in README


def test_readme_explains_the_status_line_columns() -> None:
    section = README.split("## Output and logs", 1)[1].split("\n## ", 1)[0]
    for term in ("req", "(source)", "stopping (ramp-down)", "JOURNAL_STREAM",
                 "INVOCATION_ID", "status_log_interval_s", "--"):
        assert term in section, term


def dev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "dev"), *args], capture_output=True, text=True,
                          timeout=60, check=False, cwd=ROOT,
                          env={**os.environ, "V2X_VENV": str(ROOT / ".venv")})


def test_dev_help_is_complete() -> None:
    result = dev("help")
    assert result.returncode == 0
    text = result.stdout.rstrip()
    assert text.endswith("."), text  # not cut mid-sentence
    for task in ("run", "test", "lint", "bench", "v2xctl", "help"):
        assert f"./dev {task}" in text, task


def test_dev_unknown_task_lists_every_task() -> None:
    result = dev("foo")
    assert result.returncode == 2
    for task in ("run", "test", "lint", "bench", "v2xctl", "help"):
        assert re.search(rf"\b{task}\b", result.stderr), task


def test_no_empty_extras() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert all(extras.values()), extras


def shell_scripts() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    found = []
    for name in listed:
        path = ROOT / name
        if path.is_file():
            with path.open("rb") as handle:
                first = handle.readline()
            if first.startswith(b"#!") and (b"sh" in first.split(b"/")[-1]):
                found.append(path)
    return found


def test_ci_shellchecks_every_shell_script() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y shellcheck" in ci and "command -v shellcheck" in ci
    scripts = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert {"dev", ".ci/run", "hw/install.sh"} <= scripts
    listed = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "--list-shell-scripts"],
                            cwd=ROOT, capture_output=True, text=True, check=True,
                            timeout=60).stdout.split()
    assert set(listed) == scripts


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_dev_and_ci_pass_shellcheck() -> None:
    result = subprocess.run(["shellcheck", str(ROOT / "dev"), str(ROOT / ".ci" / "run")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_no_citation_of_a_path_outside_the_repository() -> None:
    """The drivers and the measurement page cite the datasheets, not a local notes folder."""
    cited = [*sorted((ROOT / "hal" / "drivers").glob("*.py")), ROOT / "docs" / "measurement.md"]
    for path in cited:
        text = path.read_text(encoding="utf-8")
        assert "/work/" not in text and "shared/reference" not in text, path
