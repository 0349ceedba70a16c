"""Backup from every mode where it is allowed (issue 16 item 10).

The utility fails while the charger charges, exports (V2G), follows the home (V2H) or only has
an EV connected (idle, ``backup.from_idle``): the home must be dark for at most 0.5 s, measured
in the plant (``home_deenergized`` -> ``home_energized``), and the controller's own record must
show the way it went (its transitions into backup_island, no fault, no hot open). The charge and
the export are cut at once (the grid is dead), not ramped.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

OUTAGE_S = 30.0
DARK_GOAL_S = 0.5
# From idle the DC side starts cold while K_GRID opens (the two overlap): welding check, the
# insulation test (credited with the monitor's healthy history), then the precharge and the
# inverter's start delay (0.1 s). About 0.3 s of that is fixed (detection, one tick per check,
# three contactor closings, the inverter's start); the rest is the precharge's RC time to within
# sequence.precharge_tolerance_v. The simulator's reference link (40 ohm, 2 mF, tau 80 ms):
# 0.625 s. A backup-grade precharge resistor (20 ohm: tau 40 ms) met the goal: 0.445 s.
# With the CHAdeMO sequence (issue 19) the vehicle speaks only after d1 and closes its own
# contactors only after d2, and the precharge draws on its battery: the cold start adds d1,
# the parameter exchange (0.3 s settle), switch k, the lock and the vehicle's closing (the
# simulated Leaf: 0.3 s and 0.4 s; a real ZE1 took 3.4 s to switch k). Measured: 1.465 s with the
# reference precharge, 1.345 s with the backup-grade one. The 0.5 s goal from idle needs a
# session kept warm while idle (docs/ev-link.md, "Left open").
IDLE_CHADEMO_DARK_S = 1.6
IDLE_CHADEMO_BACKUP_GRADE_DARK_S = 1.45
BACKUP_GRADE_PRECHARGE_OHM = 20.0
HOME_LOAD_W = 1800.0
REQUESTS: dict[str, dict[str, Any] | None] = {
    "charge": {"mode": "charge", "power_w": 7000},
    "v2g": {"mode": "v2g", "power_w": 7000, "source": "grid_operator"},
    "v2h": {"mode": "v2h"},
    "idle": None,
}


def outage_while(mode: str, from_idle: bool = True,
                 precharge_ohm: float | None = None) -> dict[str, Any]:
    events: list[dict[str, Any]] = [{"at_s": OUTAGE_S, "id": "outage", "kind": "grid_outage"}]
    request = REQUESTS[mode]
    if request is not None:
        events.insert(0, {"at_s": 0.0, "kind": "request", **request})
    return {
        "scenario": {"name": f"outage-while-{mode}", "duration_s": OUTAGE_S + 10.0,
                     "seed": 116},
        "plant": {"ev_soc_pct": 60, "home_load_w": HOME_LOAD_W,
                  **({} if precharge_ohm is None
                     else {"precharge_resistance_ohm": precharge_ohm})},
        "config": {"backup": {"from_idle": from_idle}, "limits": {"max_charge_power_w": 7000}},
        "events": events,
        "expect": [{"kind": "never_state", "state": "fault"},
                   {"kind": "state_at", "at_s": OUTAGE_S + 9.0, "state": "backup_island"},
                   {"kind": "no_invariant_violation"}],
    }


def dark_time(report: dict[str, Any]) -> float:
    """From the home going dark at the outage to the EV lighting it again (plant events)."""
    events = report["plant_events"]
    dark = next(e["t"] for e in events
                if e["kind"] == "home_deenergized" and e["t"] >= OUTAGE_S - 1e-6)
    lit = next(e["t"] for e in events if e["kind"] == "home_energized" and e["t"] > dark)
    return float(lit - dark)


@pytest.mark.parametrize(("mode", "limit_s", "precharge_ohm"), [
    ("charge", DARK_GOAL_S, None), ("v2g", DARK_GOAL_S, None), ("v2h", DARK_GOAL_S, None),
    ("idle", IDLE_CHADEMO_DARK_S, None),
    ("idle", IDLE_CHADEMO_BACKUP_GRADE_DARK_S, BACKUP_GRADE_PRECHARGE_OHM)])
def test_the_home_is_dark_at_most_half_a_second(mode: str, limit_s: float,
                                                precharge_ohm: float | None) -> None:
    """Measured: charge, v2g and v2h 0.165 s; idle 0.625 s, 0.445 s with a 20 ohm precharge
    resistor (was: 2.54, 2.18, 0.165, 1.165 s); idle through the CHAdeMO sequence (issue 19)
    1.465 s and 1.345 s."""
    report = run_scenario(parse_scenario(outage_while(mode, precharge_ohm=precharge_ohm)),
                          progress=None)
    assert report["passed"], [e["explanation"] for e in report["expectations"]
                              if not e["passed"]]
    assert dark_time(report) <= limit_s, mode
    went = [tr["to"] for tr in report["transitions"] if tr["t"] >= OUTAGE_S]
    assert "backup_island" in went, went
    # The controller formed only once K_GRID was open (its record and the plant's agree).
    plant = report["plant_events"]
    opened = next(e["t"] for e in plant if e["t"] >= OUTAGE_S and e["kind"] == "contactor"
                  and e["name"] == "grid" and not e["closed"])
    formed = next(e["t"] for e in plant if e["t"] >= OUTAGE_S
                  and e["kind"] == "inverter_mode" and e["mode"] == "grid-forming")
    assert opened < formed
    if mode == "idle":  # a cold start: the DC side starts while K_GRID opens
        assert went[0] == "starting_weldcheck", went
    else:
        assert went[0] == "backup_isolate", went
    assert not report.get("hot_opens"), report.get("hot_opens")


def test_without_consent_charging_stops_and_waits() -> None:
    """backup.from_idle = false: the charging EV is not discharged for the home (as before)."""
    data = outage_while("charge", from_idle=False)
    data["expect"] = [{"kind": "state_at", "at_s": OUTAGE_S + 9.0, "state": "ev_connected"},
                      {"kind": "never_state", "state": "backup_island"},
                      {"kind": "no_invariant_violation"}]
    report = run_scenario(parse_scenario(data), progress=None)
    assert report["passed"], [e["explanation"] for e in report["expectations"]
                              if not e["passed"]]


def test_the_insulation_credit_needs_the_whole_test_time_with_the_dc_side_open() -> None:
    """The cold start credits only the monitor's unbroken history with K_DC and K_PRE open:
    an outage 1.1 s after the end of a charge opened K_DC, with a 3 s insulation test, still
    waits until the monitor has been healthy with the DC side open for the full 3 s (not 3 s
    more, not less)."""
    test_s = 3.0
    data = outage_while("charge")
    data["config"]["sequence"] = {"insulation_test_s": test_s, "insulation_test_timeout_s": 10.0}
    data["events"] = [{"at_s": 0.0, "kind": "request", "mode": "charge", "power_w": 7000},
                      {"at_s": 20.0, "kind": "release", "source": "user"},
                      {"at_s": 21.0, "id": "outage", "kind": "grid_outage"}]
    data["expect"] = [{"kind": "never_state", "state": "fault"},
                      {"kind": "state_at", "at_s": 39.0, "state": "backup_island"},
                      {"kind": "no_invariant_violation"}]
    report = run_scenario(parse_scenario(data), progress=None)
    assert report["passed"], [e["explanation"] for e in report["expectations"]
                              if not e["passed"]]
    dc_open = max(e["t"] for e in report["plant_events"] if e["kind"] == "contactor"
                  and e["name"] == "dc" and not e["closed"] and e["t"] < 21.0)
    # (the EV link, issue 19: the test passes into starting_ev_close; a first cold start may
    # be abandoned while the session unlocks and the vehicle's report lapses, then retried)
    tested = [tr for tr in report["transitions"] if tr["t"] > 21.0
              and tr["from"] == "starting_insulation_test"
              and tr["to"] in ("starting_ev_close", "starting_precharge")]
    passed_at = tested[0]["t"]
    entered = max(tr["t"] for tr in report["transitions"] if 21.0 < tr["t"] < passed_at
                  and tr["to"] == "starting_insulation_test")
    assert passed_at - dc_open >= test_s  # the whole test time, with the DC side open
    assert passed_at - entered < test_s - 0.5  # and the history before the start counted


def test_an_explicit_stop_request_blocks_the_cold_start_without_chatter() -> None:
    """An explicit idle request is the owner's "do not use the EV": with backup.from_idle an
    outage must not start the DC side (it used to loop backup_isolate -> starting_* ->
    stopping_open every 0.16 s, operating K_GRID and K_PRE each time)."""
    data = outage_while("idle")
    data["events"].insert(0, {"at_s": 0.0, "kind": "request", "mode": "idle"})
    data["expect"] = [{"kind": "never_state", "state": "backup_isolate"},
                      {"kind": "state_at", "at_s": OUTAGE_S + 9.0, "state": "ev_connected"},
                      {"kind": "no_invariant_violation"}]
    report = run_scenario(parse_scenario(data), progress=None)
    assert report["passed"], [e["explanation"] for e in report["expectations"]
                              if not e["passed"]]
    moves = [e for e in report["plant_events"] if e["kind"] == "contactor"]
    assert moves == [], moves
