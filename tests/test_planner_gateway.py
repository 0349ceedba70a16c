"""The planner in the gateway: its ``[planner]`` section, its factory and the ``plan`` verb on
``v2x-gateway``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfigError, parse_gateway_config
from gateway.main import main
from gateway.planner.service import PlannerService
from gateway.planner.settings import PlannerSection
from gateway.preferences import Preferences
from gateway.services import build_services

EXAMPLE = Path(__file__).parent.parent / "gateway" / "planner" / "examples" / "planner.toml"
QUIET = {"mqtt": {"enabled": False}, "status_page": {"enabled": False}}


def test_the_planner_is_off_by_default_and_runs_when_enabled() -> None:
    assert not [s for s in build_services(parse_gateway_config(QUIET), Preferences())]
    prefs = Preferences()
    config = parse_gateway_config({**QUIET, "planner": {
        "enabled": True, "config_file": str(EXAMPLE), "poll_s": 10.0, "manual_hold_h": 2.0}})
    (service,) = build_services(config, prefs)
    assert isinstance(service, PlannerService) and service.name == "planner"
    assert service.prefs is prefs  # Home Assistant's manual mode reaches it
    assert service.hold.hold_s == 7200.0
    assert config.get(PlannerSection).manual_hold_s == 7200.0
    assert PlannerSection(manual_hold_h=0.0).manual_hold_s is None  # until released


@pytest.mark.parametrize(("table", "problem"), [
    ({"enabled": True}, "planner.config_file: required"),
    ({"enabled": True, "config_file": "/nonexistent/planner.toml"}, "cannot read"),
    ({"poll_s": float("nan")}, "planner.poll_s = nan: not a finite number"),
    ({"manual_hold_h": float("inf")}, "planner.manual_hold_h = inf: not a finite number"),
    ({"manual_hold_h": -1.0}, "planner.manual_hold_h = -1"),
    ({"manual_hold_h": 1e300}, "planner.manual_hold_h = 1e+300"),
    ({"enabled": "yes"}, "planner.enabled = 'yes': wrong type"),
    ({"horizon_h": 48}, "planner.horizon_h: unknown key"),
])
def test_a_bad_planner_section_is_refused_naming_the_key(table: dict[str, object],
                                                          problem: str) -> None:
    with pytest.raises(GatewayConfigError) as err:
        parse_gateway_config({**QUIET, "planner": table})
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_a_broken_planner_file_is_reported_by_check(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "planner.toml"
    broken.write_text("[battery]\ncapacity_kwh = nan\n", encoding="utf-8")
    gateway = tmp_path / "gateway.toml"
    gateway.write_text(f'[planner]\nenabled = true\nconfig_file = "{broken}"\n',
                       encoding="utf-8")
    assert main(["--config", str(gateway), "--check"]) == 2
    err = capsys.readouterr().err
    assert "planner.config_file" in err and "battery.capacity_kwh" in err, err


def test_the_plan_verb_runs_on_v2x_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config", str(EXAMPLE), "--soc", "45",
                 "--at", "2026-12-03T18:05+01:00", "--every", "4"]) == 0
    out = capsys.readouterr().out
    assert "Thu 18:00  v2h" in out and "savings against charging on arrival" in out
    assert main(["plan", "--config", str(EXAMPLE), "--soc", "nan"]) == 2
    assert "--soc" in capsys.readouterr().err


def test_the_plan_and_its_savings_reach_mqtt_home_assistant_and_the_status_page() -> None:
    from gateway.ha_discovery import discovery
    from gateway.mqtt_service import state_payload
    from gateway.settings import MqttSettings, StatusPageSettings
    from gateway.status_page import StatusPage

    prefs = Preferences(planner_status="suspended: manual charge until the owner chooses auto",
                        plan={"mode": "v2h", "power_kw": -5.0, "energy_cost": 1.25,
                              "wear_cost": 0.4, "savings": 2.5, "made_at": "2026-12-03T18:00",
                              "reason": "every 15 minutes", "notes": ["a note <b>"]})
    state = state_payload(None, prefs)
    assert state["planner"].startswith("suspended: manual charge")
    assert (state["plan_mode"], state["plan_savings"], state["plan_wear_cost"]) == \
        ("v2h", 2.5, 0.4)
    configs = discovery(MqttSettings(), "0")
    savings = next(c for t, c in configs.items() if t.endswith("/plan_savings/config"))
    assert "value_json.plan_savings" in savings
    assert any(t.endswith("/planner/config") for t in configs)
    page = StatusPage(StatusPageSettings(port=0), prefs).page()
    assert "suspended: manual charge" in page and "saves 2.5 against charging" in page
    assert "a note &lt;b&gt;" in page  # escaped
    off = StatusPage(StatusPageSettings(port=0), Preferences()).page()
    assert "<h2>Plan</h2>" not in off
