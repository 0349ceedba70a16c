"""The import rule of the architecture, checked on the source: layers stay layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARDWARE_LIBRARIES = ("gpiozero", "smbus2", "can", "serial", "cantools", "lgpio")
SIMULATOR_USERS: tuple[str, ...] = ()  # the bench moved above controller, to simulation/


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("path", sources("controller"), ids=lambda p: str(p.relative_to(ROOT)))
def test_controller_never_imports_hardware_libraries(path: Path) -> None:
    bad = sorted(m for m in imports(path) if top(m) in HARDWARE_LIBRARIES)
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: go through hal.interfaces"


@pytest.mark.parametrize("path", sources("controller"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_scenario_bench_reaches_into_the_simulator(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    sim = sorted(m for m in imports(path) if m == "hal.sim" or m.startswith("hal.sim."))
    if not relative.startswith(SIMULATOR_USERS):
        assert not sim, f"{relative} imports {sim}: only simulation/ may"


@pytest.mark.parametrize("path", sources("hal"), ids=lambda p: str(p.relative_to(ROOT)))
def test_hal_never_imports_the_application(path: Path) -> None:
    bad = sorted(m for m in imports(path) if top(m) == "controller")
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
