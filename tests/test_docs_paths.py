"""Every repository path a hand-written document cites in backticks must exist.

A path is any token inside a backtick span that starts with one of the repository's top-level
folders and a slash (``controller/supervisor/loop.py``, ``hal/interfaces/``, ``docs/x.md``).
Dotted module names and absolute paths (``/dev/i2c-1``) are not repository paths and are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("controller", "hal", "docs", "hw", "tests", "systemd", "scenarios", "bench",
             "simulation")
DOCUMENTS = ("docs/architecture.md", "hw/README.md")

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_REPO_PATH = re.compile(
    r"(?<![\w./-])(?:" + "|".join(TOP_LEVEL) + r")/[\w./-]*"
)


def cited_paths(markdown: str) -> list[str]:
    """Repository paths inside backtick spans, in order of appearance (duplicates kept)."""
    paths: list[str] = []
    for span in _CODE_SPAN.findall(markdown):
        paths.extend(match.rstrip(".") for match in _REPO_PATH.findall(span))
    return paths


def test_path_pattern_finds_files_and_folders_but_not_modules_or_absolute_paths() -> None:
    text = (
        "see `controller/supervisor/loop.py` `_tick`, the folder `hal/interfaces/`, "
        "`hal.sim.world`, `/var/lib/v2x-controller/state.db`, `/dev/i2c-1` and "
        "`docs/a.md`, `hw/b.toml`"
    )
    assert cited_paths(text) == [
        "controller/supervisor/loop.py", "hal/interfaces/", "docs/a.md", "hw/b.toml",
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_cited_path_exists(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    paths = cited_paths(text)
    assert paths, f"{document} cites no repository paths; the pattern or the document is wrong"
    missing = sorted({p for p in paths if not (ROOT / p).exists()})
    assert not missing, f"{document} cites paths that do not exist: {missing}"


def test_architecture_names_the_owner_of_each_tick_step() -> None:
    """The tick-order section must point at the loop and each stage's file."""
    paths = set(cited_paths((ROOT / "docs/architecture.md").read_text(encoding="utf-8")))
    for owner in (
        "controller/supervisor/loop.py",
        "controller/supervisor/inputs.py",
        "controller/measurement/grid_estimator.py",
        "controller/protection/protection.py",
        "controller/modes/machine.py",
        "controller/dispatch/dispatcher.py",
        "controller/supervisor/outputs.py",
        "hal/registry.py",
    ):
        assert owner in paths, f"docs/architecture.md does not cite {owner}"
