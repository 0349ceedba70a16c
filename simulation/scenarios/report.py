"""The scenario report (JSON, ``"format": 1``) and the optional time-series CSV."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from simulation.scenarios.expectations import Outcome, RunRecord
from simulation.scenarios.spec import Entry

REPORT_FORMAT = 1
DECIMALS = 6
WALL_CLOCK_FIELDS = ("wall_s", "wall")


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def build_report(run: RunRecord, outcomes: list[tuple[Entry, Outcome]], wall_s: float,
                 final: dict[str, Any]) -> dict[str, Any]:
    scenario = run.scenario
    # Any hot open outside an emergency fails the run, whichever record shows it: the plant's
    # (an invariant 7 violation) or the controller's own (also reported as a violation).
    passed = (all(o.passed for _, o in outcomes) and not run.violations
              and not run.controller_hot_opens(emergencies=False))
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "scenario": scenario.name,
        "source": scenario.source,
        "seed": scenario.seed,
        "passed": passed,
        "duration_s": scenario.duration_s,
        "control_tick_s": scenario.config.control.tick_s,
        "wall_s": wall_s,
        "expectations": [
            {"index": e.index, "kind": e.kind,
             "params": {k: v for k, v in e.params.items() if k != "kind"},
             "passed": o.passed, "explanation": o.explanation}
            for e, o in outcomes
        ],
        "transitions": [{"t": tr.t, "from": tr.source, "to": tr.dest, "trigger": tr.trigger,
                         "reason": tr.reason} for tr in run.transitions],
        "trips": [{"t": tr.t, "function": tr.function, "measured": tr.measured,
                   "setting": tr.setting, "detail": tr.detail} for tr in run.trips],
        "requests": [{"t": r.t, "kind": r.kind, "source": r.source, "mode": r.mode,
                      "power_w": r.power_w, "lease_s": r.lease_s, "accepted": r.accepted,
                      "reason": r.reason} for r in run.requests],
        "winners": [{"t": w.t, "field": w.field, "source": w.source, "value": w.value}
                    for w in run.winners],
        "hot_opens": [{"t": h.t, "emergency": h.emergency, "current_a": h.current_a,
                       "state": h.state, "text": h.text} for h in run.hot_opens],
        "plant_events": [{"t": ev.t, "kind": ev.kind, **ev.details}
                         for ev in run.truth.events],
        "energy_kwh": asdict(run.truth.energy),
        "invariant_violations": [{"t": v.t, "invariant": v.invariant, "text": v.text}
                                 for v in run.violations],
        "final": final,
    }
    return dict(_round(report))


def write_report(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n",
                    encoding="utf-8")


TIMESERIES_COLUMNS = (
    "t", "state", "grid_voltage_v", "grid_frequency_hz", "grid_import_w", "home_load_w", "pv_w",
    "inverter_ac_w", "inverter_mode", "ev_soc_pct", "battery_current_a", "dc_link_v",
    "command_p_w", "k_grid", "k_ac", "k_v2l", "k_dc", "k_precharge",
    "pcc_voltage_v", "pcc_frequency_hz", "inverter_q_var",
    # What the controller measured and believed (empty before its first reading): beside the
    # plant truth above, so that accuracy can be judged from any run (issue 20).
    "meas_voltage_v", "meas_frequency_hz", "meas_rocof_hz_per_s", "meas_grid_power_w",
    "meas_pv_power_w", "meas_dc_link_v", "meas_dc_current_a", "meas_ev_soc_pct",
    "meas_inverter_ac_w",
)


class TimeseriesWriter:
    """One CSV row per sample period; columns above (plant truth plus controller state)."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow(TIMESERIES_COLUMNS)

    def row(self, values: dict[str, Any]) -> None:
        self._writer.writerow([_fmt(values[c]) for c in TIMESERIES_COLUMNS])


def _fmt(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return value
