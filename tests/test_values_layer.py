"""``controller/values/`` is the low package: at run time it imports only ``hal``, itself and
the mode machine's state Enum (a module with no imports of its own), so every other part of
``controller`` may import it without a cycle. Types named only for the type checker (inside
``if TYPE_CHECKING:``) do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = ("hal.", "controller.values.", "__future__")
ALLOWED_MODULES = {"controller.modes.states"}
STDLIB = {"collections", "collections.abc", "dataclasses", "math", "typing", "enum"}


def runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "controller" / "values").glob("*.py")),
                         ids=lambda p: p.name)
def test_the_values_package_imports_nothing_above_it(path: Path) -> None:
    bad = sorted(m for m in runtime_imports(path)
                 if not (m + ".").startswith(ALLOWED) and m not in ALLOWED_MODULES
                 and m not in STDLIB)
    assert not bad, f"{path.relative_to(ROOT)} imports {bad} at run time"


def test_the_rule_sees_a_runtime_import_above_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from typing import TYPE_CHECKING\n"
                   "from controller.protection.trip import Trip\n"
                   "if TYPE_CHECKING:\n    from controller.modes.requests import Request\n")
    assert runtime_imports(bad) == {"typing", "controller.protection.trip"}
