"""Checks that judge a DC ADC sample judge it by its own time, not the tick's (issue 20).

At a 1 Hz control rate the DC ADC refreshes each channel every three or four ticks, so:

- at the halfway point of the precharge the newest DC link sample could date from before K_PRE
  closed: 0 V, "still below 10 % of the inlet after 2 s", PRECHARGE_TIMEOUT on a healthy
  precharge (the bench day's first V2H start). The check must wait for a sample from the second
  half of the window;
- during a ramp one old DC current sample, compared tick after tick with the inverter's fresh
  report, "disagreed for 1 s" (MEASUREMENT_DISAGREE at the day's first charge start): a
  disagreement is held for as long as the *samples* that show it span, so one sample counts once.
"""

from __future__ import annotations

from typing import Any

from harness import SLOW_TICK_S, slow_loop_settings
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

TICK_S = SLOW_TICK_S


def slow_loop_start(alert_v: float, mode: str = "v2h") -> dict[str, Any]:
    """The bench day's settings (1 Hz control, 1 s plant step), a start at 300 s."""
    return {
        "scenario": {"name": "precharge-1hz", "duration_s": 400.0, "seed": 8, "tick_s": TICK_S},
        **slow_loop_settings(alert_v),
        "events": [{"at_s": 300.0, "kind": "request", "mode": mode}],
        "expect": [{"kind": "no_invariant_violation"}],
    }


def test_a_healthy_precharge_at_1_hz_does_not_time_out_on_an_old_sample() -> None:
    for alert_v in (0.0, 450.0):  # the plain round-robin scan, and the DC-link guard's
        report = run_scenario(parse_scenario(slow_loop_start(alert_v)), progress=None)
        assert report["trips"] == [], (alert_v, report["trips"])
        assert report["final"]["state"] == "energised_v2h"


def test_a_charge_ramp_at_1_hz_is_not_a_measurement_disagreement() -> None:
    for alert_v in (0.0, 450.0):
        report = run_scenario(parse_scenario(slow_loop_start(alert_v, "charge")), progress=None)
        assert report["trips"] == [], (alert_v, report["trips"])
        assert report["final"]["state"] == "energised_charge"
