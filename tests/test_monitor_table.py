"""The monitor table says which monitor raises which fault code; the sources and a run agree.

Static: every catalogued code is declared by the monitors that name it and by no other, or is
documented as raised elsewhere (and that file raises it). Dynamic: ``Protection`` refuses a code
a monitor's row does not declare, so every scenario and fault-matrix run checks the table too.
"""

from __future__ import annotations

import ast
import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest

import controller.faults as faults
from controller.config.loader import load_config
from controller.config.model import Config
from controller.protection.interlocks.estop import EstopMonitor
from controller.protection.monitor import Finding, ProtectionInput
from controller.protection.protection import Protection, UndeclaredCodeError
from controller.protection.table import (
    MONITORS,
    NEVER_RAISED,
    RAISED_ELSEWHERE,
    MonitorBinding,
    Wiring,
)
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode

ROOT = Path(__file__).resolve().parent.parent
ENUM_NAMES = ("FaultCode", "C")  # how the sources spell the enum
# Code collections of controller/faults.py a monitor may name instead of each code.
COLLECTIONS = {name: frozenset(value) for name, value in vars(faults).items()
               if name.isupper() and isinstance(value, tuple | frozenset)
               and value and all(isinstance(v, FaultCode) for v in value)}


def _config() -> Config:
    return load_config('[hal]\nbackend = "sim"\n')


def named_codes(path: Path) -> tuple[set[FaultCode], set[FaultCode]]:
    """The codes a source file names one by one (``FaultCode.X``), and those it names through a
    collection of controller/faults.py (``INVERTER_FAULT_BITS``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    single: set[FaultCode] = set()
    through: set[FaultCode] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in ENUM_NAMES):
            single.add(FaultCode[node.attr])
        elif isinstance(node, ast.Name) and node.id in COLLECTIONS:
            through |= COLLECTIONS[node.id]
    return single, through


def test_every_code_has_a_producer_or_says_where_it_comes_from() -> None:
    declared = {code for row in MONITORS for code in row.codes}
    missing = set(FaultCode) - declared - set(RAISED_ELSEWHERE) - NEVER_RAISED
    assert not missing, f"no monitor row and no RAISED_ELSEWHERE entry for {sorted(missing)}"
    assert not NEVER_RAISED & (declared | set(RAISED_ELSEWHERE))


def test_each_module_names_exactly_the_codes_its_rows_declare() -> None:
    """A code a monitor's module names but its row does not declare (or the reverse) is a
    table that lies about who trips what."""
    by_module: dict[str, set[FaultCode]] = defaultdict(set)
    for row in MONITORS:
        by_module[row.module] |= row.codes
    for module, declared in by_module.items():
        single, through = named_codes(ROOT / module)
        assert single <= declared, f"{module} names {sorted(single - declared)} undeclared"
        assert declared <= single | through, (
            f"{module}: declared {sorted(declared - single - through)} but never named there")


def test_no_other_protection_module_raises_a_code() -> None:
    """Only the table's modules construct trips; the others (the grid window, the retry
    evidence, helpers) may name codes to read them, never in a ``Trip``."""
    modules = {row.module for row in MONITORS}
    for path in sorted((ROOT / "controller" / "protection").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in modules:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        built = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name) and node.func.id == "Trip"]
        assert not built, f"{relative} builds a Trip at lines {built}: bind it in the table"


@pytest.mark.parametrize("code", sorted(RAISED_ELSEWHERE), ids=str)
def test_raised_elsewhere_names_a_file_that_raises_it(code: FaultCode) -> None:
    where = RAISED_ELSEWHERE[code]
    path = ROOT / where.split(":")[0]
    assert path.is_file(), where
    source = path.read_text(encoding="utf-8")
    assert f'"{code.value}"' in source or f"FaultCode.{code.name}" in source or (
        any(name in source for name, codes in COLLECTIONS.items() if code in codes)), where


@pytest.mark.parametrize("row", MONITORS, ids=lambda row: row.name)
def test_rows_name_real_config_sections_and_build(row: MonitorBinding) -> None:
    config = _config()
    assert (ROOT / row.module).is_file(), row.module
    assert len({r.name for r in MONITORS}) == len(MONITORS)
    for section in row.sections:
        node: object = config
        for part in section.split("."):
            assert dataclasses.is_dataclass(node), (row.name, section)
            node = getattr(node, part)  # AttributeError: a section that does not exist
        assert dataclasses.is_dataclass(node), (row.name, section)
    monitor = row.build(Wiring(config, 0.0, Protection(config, 0.0).grid_window))
    found = monitor.update(ProtectionInput(_estop_open(5.0), energised=True))
    assert isinstance(found, Finding)
    assert {t.code for t in (*found.trips, *found.warnings)} <= row.codes


def _estop_open(t: float) -> Snapshot:
    return Snapshot(t=t, meter=None, meter_error=None, analog={}, adc_error=None, contactors={},
                    inputs={"estop": False}, inverter=None, inverter_age_s=0.0, ev=None)


def test_a_code_the_row_does_not_declare_is_refused() -> None:
    """A real E-stop monitor bound under a row that declares only DOOR_OPEN: its trip must not
    pass as if the table were right (the loop turns the error into INTERNAL_ERROR)."""
    config = _config()
    estop = next(row for row in MONITORS if row.name == "estop")
    wrong = dataclasses.replace(estop, codes=frozenset({FaultCode.DOOR_OPEN}))
    right = Protection(config, 0.0, monitors=(estop,))
    assert [t.code for t in right.evaluate(_estop_open(0.0), None, False).trips] == ["ESTOP"]
    with pytest.raises(UndeclaredCodeError, match="'estop' returned ESTOP"):
        Protection(config, 0.0, monitors=(wrong,)).evaluate(_estop_open(0.0), None, False)


def test_the_default_protection_runs_every_row_in_order() -> None:
    config = _config()
    protection = Protection(config, 0.0)
    result = protection.evaluate(_estop_open(5.0), None, energised=True)
    codes = [t.code for t in result.trips]
    assert codes[0] == "ESTOP"  # the first row trips first
    assert "SENSOR_STALE" in codes  # the sensor row ran too: no ADC value after 5 s
    monitor = EstopMonitor(0.5)
    assert [t.code for t in monitor.update(ProtectionInput(_estop_open(0.0))).trips] == ["ESTOP"]
