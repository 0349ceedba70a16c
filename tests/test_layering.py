"""The import rule of the architecture, checked on the source: layers stay layers.

The rule is the allow-list table in docs/architecture.md (section 3): this test reads it, so the
document and the check cannot drift apart. For each file the most specific row (longest path)
applies; an import of a project module must fall under one of its "may import" modules and under
none of its "never" modules.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs/architecture.md"
FIRST_PARTY = ("controller", "hal", "simulation", "gateway")
HARDWARE_LIBRARIES = ("gpiozero", "smbus2", "can", "serial", "cantools", "lgpio")
TABLE_HEADER = "| Package | May import | Never |"
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Rule:
    package: str  # "controller/doctor/"
    allowed: tuple[str, ...]
    never: tuple[str, ...]


def parse_rules(markdown: str) -> list[Rule]:
    """The rows of the allow-list table (the one whose header is :data:`TABLE_HEADER`)."""
    lines = [line.strip() for line in markdown.splitlines()]
    start = lines.index(TABLE_HEADER) + 2  # the header and the |---| line
    rules = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        package, allowed, never = (tuple(_CODE.findall(cell)) for cell in cells)
        rules.append(Rule(package[0], allowed, never))
    return rules


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rule_for(rules: list[Rule], relative: str) -> Rule | None:
    matching = [r for r in rules if relative.startswith(r.package)]
    return max(matching, key=lambda r: len(r.package)) if matching else None


def violations(rule: Rule, modules: set[str]) -> list[str]:
    first_party = sorted(m for m in modules if m.split(".")[0] in FIRST_PARTY)
    return [m for m in first_party
            if not any(under(m, a) for a in rule.allowed) or any(under(m, n) for n in rule.never)]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources() -> list[Path]:
    return sorted(p for package in FIRST_PARTY for p in (ROOT / package).rglob("*.py"))


RULES = parse_rules(ARCHITECTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_is_on_its_packages_allow_list(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    rule = rule_for(RULES, relative)
    assert rule is not None, f"{relative}: no row of the allow-list in docs/architecture.md"
    bad = violations(rule, imports(path))
    assert not bad, (f"{relative} imports {bad}; {rule.package} may import {rule.allowed}"
                     + (f", never {rule.never}" if rule.never else ""))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_hal_imports_hardware_libraries(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith("hal/"):
        return
    bad = sorted(m for m in imports(path) if m.split(".")[0] in HARDWARE_LIBRARIES)
    assert not bad, f"{relative} imports {bad}: go through hal.interfaces"


def test_the_table_has_a_row_for_every_package_and_no_row_twice() -> None:
    packages = [r.package for r in RULES]
    assert len(packages) == len(set(packages)), packages
    assert {f"{p}/" for p in FIRST_PARTY} <= set(packages)
    assert all(r.allowed for r in RULES), "a row that allows nothing, not even itself"


def test_the_rule_refuses_what_the_architecture_forbids() -> None:
    """The matcher itself: the imports the layering exists to stop are refused."""
    cases = {
        "controller/modes/machine.py": ["hal.sim.world", "simulation.invariants", "gpiozero"],
        "controller/supervisor/loop.py": ["hal.pi.backend", "hal.assembly", "gateway.api"],
        "controller/doctor/pi_devices.py": ["hal.pi.backend", "hal.sim.backend"],
        "hal/registry.py": ["controller.config", "hal.sim.world", "simulation"],
        "gateway/api.py": ["controller.console", "hal.sim", "simulation.scenarios"],
    }
    for relative, modules in cases.items():
        rule = rule_for(RULES, relative)
        assert rule is not None
        assert violations(rule, set(modules)) == sorted(
            m for m in modules if m.split(".")[0] in FIRST_PARTY), relative
    sim = rule_for(RULES, "hal/sim/world.py")
    assert sim is not None and violations(sim, {"hal.sim.plant.grid", "hal.errors"}) == []
