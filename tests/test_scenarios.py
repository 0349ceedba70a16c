"""The scenario runner: built-in scenarios pass, reports are deterministic, bad files are named."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulation.scenarios.reference import BEGIN, END, scenario_reference
from simulation.scenarios.report import WALL_CLOCK_FIELDS
from simulation.scenarios.runner import run_file, run_scenario
from simulation.scenarios.spec import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
V2XCTL = [sys.executable, "-m", "controller.cli.main"]
REPORT_FIELDS = {"format", "scenario", "source", "seed", "passed", "duration_s",
                 "control_tick_s", "wall_s", "expectations", "transitions", "trips",
                 "plant_events", "energy_kwh", "invariant_violations", "final", "wall",
                 "requests", "winners", "hot_opens"}


def sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*V2XCTL, "sim", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def strip_wall(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in WALL_CLOCK_FIELDS}


def small(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scenario": {"name": "small", "duration_s": 12.0, "seed": 5},
        "events": [{"at_s": 0.0, "kind": "request", "mode": "charge"},
                   {"at_s": 8.0, "id": "press", "kind": "estop_press"}],
        "expect": [{"kind": "state_at", "at_s": 7.0, "state": "energised"},
                   {"kind": "trip", "function": "ESTOP", "after_event": "press",
                    "within_s": 0.05}],
    }
    data.update(overrides)
    return data


def test_there_are_built_in_scenarios() -> None:
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_built_in_scenario_passes(path: Path) -> None:
    report = run_file(path, progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], (failed, report["invariant_violations"][:3])


def test_same_file_and_seed_give_the_same_report(tmp_path: Path) -> None:
    path = ROOT / "scenarios" / "estop-while-charging.toml"
    first = sim(str(path), "--quiet", "--report", str(tmp_path / "a.json"))
    second = sim(str(path), "--quiet", "--report", str(tmp_path / "b.json"))
    assert first.returncode == second.returncode == 0, first.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert strip_wall(a) == strip_wall(b)
    assert json.dumps(strip_wall(a)) == json.dumps(strip_wall(b))  # byte for byte, in order


def test_a_different_seed_changes_the_noise_not_the_story() -> None:
    a = run_scenario(parse_scenario(small()), progress=None)
    b = run_scenario(parse_scenario(small(scenario={"name": "small", "duration_s": 12.0,
                                                    "seed": 6})), progress=None)
    assert a["passed"] and b["passed"]
    assert [t["to"] for t in a["transitions"]] == [t["to"] for t in b["transitions"]]


def test_report_holds_every_documented_field() -> None:
    report = run_scenario(parse_scenario(small()), progress=None)
    assert set(report) == REPORT_FIELDS
    assert report["format"] == 1
    assert {"t", "from", "to", "trigger", "reason"} <= set(report["transitions"][0])
    trip = report["trips"][0]
    assert {"t", "function", "measured", "setting", "detail"} <= set(trip)
    assert trip["function"] == "ESTOP"
    kinds = {e["kind"] for e in report["plant_events"]}
    assert {"contactor", "inverter_mode", "estop"} <= kinds
    assert set(report["energy_kwh"]) == {"grid_import_kwh", "grid_export_kwh", "ev_charged_kwh",
                                         "ev_discharged_kwh", "home_from_ev_kwh", "pv_kwh"}
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for field in REPORT_FIELDS:
        assert f"| `{field}` |" in doc, f"report field {field} is not documented"


def test_failing_expectation_exits_1_and_says_which_and_why(tmp_path: Path) -> None:
    path = tmp_path / "fail.toml"
    path.write_text("""
[scenario]
name = "wrong-on-purpose"
duration_s = 5

[[events]]
at_s = 0
kind = "request"
mode = "charge"

[[expect]]
kind = "state_at"
at_s = 4
state = "energised_v2h"
""")
    result = sim(str(path))
    assert result.returncode == 1, result.stderr
    assert ("FAIL expect[0] state_at: state at 4.0 s is energised_charge "
            "(expected energised_v2h)") in result.stdout
    assert "FAILED: wrong-on-purpose (1 expectation(s) failed)" in result.stdout


def test_malformed_file_exits_2_naming_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("""
[scenario]
name = "bad"
duration_s = 10
colour = "blue"

[plant]
ev_soc_pct = 140

[config.limits]
max_charge_power_w = "lots"

[[events]]
at_s = 2
kind = "teleport"

[[events]]
at_s = 20
kind = "home_load"
w = 100

[[events]]
at_s = 1
kind = "grid_voltage"
volts = 250

[[expect]]
kind = "trip"
function = "ESTOP"
after_event = "nothing"
within_s = 1
""")
    result = sim(str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    expected = [
        "scenario.colour: unknown key",
        "plant.ev_soc_pct = 140.0: out of range, allowed 0.0 to 100.0",
        "config.limits.max_charge_power_w = 'lots': wrong type str, expected number",
        "events[0].kind = 'teleport': unknown kind",
        "events[2].volts: unknown key",
        "events[2].pu: required key is missing",
        "events[1].at_s = 20.0: after the end of the scenario",
        "expect[0].after_event = 'nothing': no event has that id",
    ]
    for fragment in expected:
        assert any(fragment in line for line in lines), (fragment, lines)
    assert all(line.startswith(str(path)) for line in lines)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[scenario\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)


def test_slow_control_rate_needs_matching_age_limits() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(small(scenario={"name": "slow", "duration_s": 60.0, "tick_s": 1.0}))
    text = "\n".join(info.value.problems)
    assert "config.protection.inverter_status_timeout_s = 0.1: must be at least 2 s" in text
    assert "plant.inverter_command_timeout_s = 0.1" in text


def test_frozen_controller_makes_the_inverter_cease_in_the_ground_truth() -> None:
    data = small(events=[{"at_s": 0.0, "kind": "request", "mode": "charge"},
                         {"at_s": 8.0, "id": "freeze", "kind": "fault",
                          "name": "controller_freeze", "duration_s": 2.0}],
                 expect=[{"kind": "truth_event", "event": "inverter_mode", "after_s": 8.0,
                          "before_s": 8.15}])
    report = run_scenario(parse_scenario(data), progress=None)
    assert report["passed"], report["expectations"]
    ceased = [e for e in report["plant_events"]
              if e["kind"] == "inverter_mode" and e["mode"] == "off" and e["t"] >= 8.0]
    # The last command left at the 7.98 s tick; the inverter ceases 100 ms after it arrived.
    assert 8.08 <= ceased[0]["t"] <= 8.1 + 0.005


def test_timeseries_csv(tmp_path: Path) -> None:
    out = tmp_path / "ts.csv"
    with out.open("w", newline="") as stream:
        run_scenario(parse_scenario(small()), progress=None, timeseries=stream)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 12
    assert rows[7]["state"] == "energised_charge"
    assert float(rows[7]["inverter_ac_w"]) > 1000
    assert rows[10]["k_dc"] == "0"


def test_docs_scenarios_reference_is_in_sync() -> None:
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    assert doc[start:end] + "\n" == scenario_reference(), (
        "regenerate the reference section with: v2xctl sim --format-reference")


def test_scenarios_readme_lists_every_built_in_scenario() -> None:
    readme = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    for path in SCENARIOS:
        assert f"`{path.name}`" in readme, path.name


def test_timeseries_carries_what_the_controller_measured_beside_the_truth(
        tmp_path: Path) -> None:
    """Issue 20 item 6: every row has the controller's own view (meter, estimator, DC ADC, EV
    report, inverter status) next to the plant truth, so accuracy is judged from any run."""
    out = tmp_path / "ts.csv"
    with out.open("w", newline="") as stream:
        run_scenario(parse_scenario(small()), progress=None, timeseries=stream)
    rows = list(csv.DictReader(out.open()))
    charging = rows[7]
    assert charging["state"] == "energised_charge"
    assert abs(float(charging["meas_voltage_v"]) - float(charging["pcc_voltage_v"])) < 2.0
    assert abs(float(charging["meas_frequency_hz"]) - float(charging["pcc_frequency_hz"])) < 0.05
    assert abs(float(charging["meas_rocof_hz_per_s"])) < 0.5
    assert abs(float(charging["meas_dc_link_v"]) - float(charging["dc_link_v"])) < 5.0
    assert abs(float(charging["meas_dc_current_a"]) - float(charging["battery_current_a"])) < 2.0
    assert abs(float(charging["meas_ev_soc_pct"]) - float(charging["ev_soc_pct"])) <= 1.0
    assert abs(float(charging["meas_grid_power_w"]) - float(charging["grid_import_w"])) < 100.0
    assert abs(float(charging["meas_inverter_ac_w"]) - float(charging["inverter_ac_w"])) < 200.0
