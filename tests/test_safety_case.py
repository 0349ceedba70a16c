"""docs/safety.md is a safety case, not prose: at least 25 hazards, each with a cause, a
detection, a reaction, a backing layer and a proof that exists (a test function or a scenario)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAFETY = ROOT / "docs" / "safety.md"
HEADING = "## Hazards"
MIN_HAZARDS = 25
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
SCENARIO_REF = re.compile(r"`(scenarios/[\w/.-]+\.toml)`")
COLUMNS = ("#", "hazard", "cause", "detection", "reaction", "layer", "proof")


def hazard_rows(markdown: str) -> list[dict[str, str]]:
    """The table after the Hazards heading, one dict per row keyed by the column names."""
    lines = markdown.splitlines()
    start = lines.index(HEADING)
    table = [line for line in lines[start + 1:] if line.startswith("|")]
    header = [c.strip().lower() for c in table[0].strip().strip("|").split("|")]
    assert tuple(header) == COLUMNS, header
    rows = []
    for line in table[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def missing_proofs(rows: list[dict[str, str]], root: Path) -> list[str]:
    """Every reference that does not resolve, and every row without a reference."""
    problems: list[str] = []
    for row in rows:
        proof = row["proof"]
        tests = TEST_REF.findall(proof)
        scenarios = SCENARIO_REF.findall(proof)
        if not tests and not scenarios:
            problems.append(f"hazard {row['#']}: no test or scenario named")
        for file, function in tests:
            path = root / file
            if not path.is_file():
                problems.append(f"hazard {row['#']}: {file} does not exist")
            elif function not in defined_functions(path):
                problems.append(f"hazard {row['#']}: {file} has no {function}")
        for file in scenarios:
            if not (root / file).is_file():
                problems.append(f"hazard {row['#']}: {file} does not exist")
    return problems


def test_the_safety_case_lists_enough_hazards_each_complete() -> None:
    rows = hazard_rows(SAFETY.read_text())
    assert len(rows) >= MIN_HAZARDS
    for row in rows:
        for column in COLUMNS[1:]:
            assert row[column] not in ("", "-"), (row["#"], column)


def test_every_hazard_names_a_proof_that_exists() -> None:
    assert missing_proofs(hazard_rows(SAFETY.read_text()), ROOT) == []


@pytest.mark.parametrize("proof", [
    "`tests/test_nothing_here.py::test_x`",
    "`tests/test_interlocks.py::test_that_was_never_written`",
    "`scenarios/safety/not-a-scenario.toml`",
    "a sentence without a reference",
])
def test_a_hazard_naming_a_missing_proof_fails(proof: str) -> None:
    row = {"#": "1", "hazard": "h", "cause": "c", "detection": "d", "reaction": "r",
           "layer": "controller", "proof": proof}
    assert len(missing_proofs([row], ROOT)) == 1
