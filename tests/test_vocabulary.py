"""The typed vocabularies: one definition each, equal to the strings the rest of the world uses."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from controller.config.loader import load_config
from controller.faults import CATALOGUE, fault
from controller.modes.requests import MODES, Request
from controller.vocabulary import DC_SIDE, POWER_CONTACTORS, Contactor, FaultCode, RequestMode
from hal.settings import CONTACTOR_NAMES, ContactorsWiring

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = "controller/vocabulary.py"


def test_contactors_are_the_wiring_sections_in_order() -> None:
    """hal/ cannot import the controller: its own tuple and its wiring must match the enum."""
    assert tuple(Contactor) == CONTACTOR_NAMES
    assert tuple(Contactor) == tuple(f.name for f in dataclasses.fields(ContactorsWiring))
    assert set(DC_SIDE) <= set(Contactor) and set(POWER_CONTACTORS) <= set(Contactor)
    assert Contactor.GRID not in (*DC_SIDE, *POWER_CONTACTORS)  # K_GRID is the home's


def test_request_modes_are_the_modes_everyone_accepts() -> None:
    assert MODES == tuple(RequestMode) == ("idle", "charge", "v2h", "v2g", "v2l")
    assert all(type(mode) is str for mode in MODES)  # plain strings in reports and choices
    config = load_config('[hal]\nbackend = "sim"\n[sequence]\nstartup_request = "v2h"\n')
    assert config.sequence.startup_request == RequestMode.V2H
    assert Request(RequestMode.V2G).mode == "v2g"


def test_every_fault_code_is_catalogued_and_every_catalogued_code_is_a_fault_code() -> None:
    assert set(CATALOGUE) == set(FaultCode)
    assert all(isinstance(kind.code, FaultCode) and kind.code == key
               for key, kind in CATALOGUE.items())


@pytest.mark.parametrize("code", list(FaultCode), ids=str)
def test_a_code_is_its_string_wherever_it_goes(code: FaultCode) -> None:
    """Other branches, the store, the console and the scenario reports compare and serialise
    plain strings: a member must be indistinguishable from its value there."""
    assert code == code.value and hash(code) == hash(code.value)
    assert f"{code}" == str(code) == code.value == code.name
    assert json.dumps({"code": code}) == json.dumps({"code": code.value})
    assert CATALOGUE[code.value] is CATALOGUE[code]
    assert fault(code.value, 1.0, 2.0, "detail").describe().startswith(f"{code.value}: detail")


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


@pytest.mark.parametrize("name", ["DC_SIDE", "POWER_CONTACTORS"])
def test_one_definition_of_each_contactor_group(name: str) -> None:
    """``DC_SIDE`` was defined twice and "the power contactors" twice with different members
    (issue 18): each group is defined once, in the vocabulary, and imported everywhere else."""
    sources = sorted((ROOT / "controller").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    where = [str(p.relative_to(ROOT)) for p in sources if name in _defined_names(p)]
    assert where == [VOCABULARY], where
