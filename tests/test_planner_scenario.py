"""A scenario driven by the home energy planner (the scenario format's ``[planner]`` table).

The verdict comes from the plant and the controller's own record (the scenario's expectations:
V2H at the peak, backup at the outage, the plan resuming, the charge when cheap, no invariant
violated) and from the report's priced ``planner`` part.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulation.scenarios.runner import run_file, run_scenario
from simulation.scenarios.spec import ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
EVENING = ROOT / "scenarios" / "planner" / "evening-with-outage.toml"


def test_the_planner_drives_an_evening_with_an_outage_and_the_report_prices_it() -> None:
    report = run_file(EVENING, progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], (failed, report["invariant_violations"])
    mine = [r for r in report["requests"] if r["source"] == "schedule"]
    assert mine and all(r["accepted"] for r in mine if r["kind"] == "claim")
    assert {"v2h", "charge"} <= {r["mode"] for r in mine}
    planner = report["planner"]
    assert planner["steps"] == 16 and planner["scale"] == 30.0
    for key in ("cost", "revenue", "wear_cost", "net_cost", "charge_on_arrival_net_cost",
                "savings"):
        assert math.isfinite(planner[key]), (key, planner[key])
    assert planner["cost"] > 0 and planner["wear_cost"] > 0
    assert planner["savings"] > 0, planner  # the peak carried by the car, charged when cheap
    assert planner["end_soc_pct"] >= 60.0 - 1.0  # the departure target
    assert not any("error" in c for c in planner["claims"])


def _with(planner: str) -> str:
    return ('[scenario]\nname = "p"\nduration_s = 120\n[plant]\nev_soc_pct = 50\n'
            f"[planner]\n{planner}\n")


@pytest.mark.parametrize(("planner", "problem"), [
    ("step_s = 60\nimport_price = [0.1, nan]", "planner.import_price[1] = nan: not a finite"),
    ("step_s = 60\nimport_price = [0.1, inf]", "planner.import_price[1] = inf: not a finite"),
    ("step_s = 60\nimport_price = [0.1, 1e300]", "planner.import_price[1] = 1e+300"),
    ("step_s = 60\nimport_price = [0.1]", "planner.import_price: 1 values, the run needs 2"),
    ("step_s = 60\nimport_price = [0.1, 0.2]\npv_kw = [1, -1]", "planner.pv_kw[1] = -1"),
    ("step_s = 60\nimport_price = [0.1, 'x']", "planner.import_price[1] = 'x': must be a"),
    ("step_s = 60\nimport_price = 0.1", "planner.import_price = 0.1: must be a list"),
    ("step_s = nan\nimport_price = [0.1, 0.2]", "planner.step_s = nan"),
    ("step_s = 60", "planner.import_price: required key is missing"),
    ("import_price = [0.1, 0.2]", "planner.step_s: required key is missing"),
    ("step_s = 60\nimport_price = [0.1, 0.2]\nhorizon = 4", "planner.horizon: unknown key"),
    ("step_s = 60\nimport_price = [0.1, 0.2]\nreserve_pct = 95\nmax_soc_pct = 90",
     "planner.reserve_pct = 95: above planner.max_soc_pct"),
    ("step_s = 60\nimport_price = [0.1, 0.2]\ndepart_step = 2",
     "planner.depart_step = 2: the prices must reach past it"),
])
def test_a_bad_planner_table_is_refused_naming_the_key(planner: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_loads(_with(planner)))
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_a_scenario_without_a_planner_table_has_no_planner_report() -> None:
    report = run_scenario(parse_scenario(_loads('[scenario]\nname = "p"\nduration_s = 1\n')),
                          progress=None)
    assert "planner" not in report


def _loads(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)
