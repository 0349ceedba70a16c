"""The plant's edge-triggered ground truth (``SimWorld._step``): the inverter's mode, the
utility breaker and momentary cessation are each recorded once per change, with the value
they changed to, and never while they hold."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

OUTAGE_S, RESTORE_S = 20.0, 35.0
TRACKED = {"inverter_mode": "mode", "utility_breaker": "closed", "momentary_cessation": "ceased"}


def _report() -> dict[str, Any]:
    return run_scenario(parse_scenario({
        "scenario": {"name": "truth-edges", "duration_s": 60.0, "seed": 5},
        "plant": {"ev_soc_pct": 70.0, "home_load_w": 2200.0},
        "events": [{"at_s": 0.0, "kind": "request", "mode": "v2h", "source": "user"},
                   {"at_s": OUTAGE_S, "kind": "grid_outage"},
                   {"at_s": RESTORE_S, "kind": "grid_restore"}],
        "expect": []}), progress=None)


def test_mode_breaker_and_cessation_are_recorded_once_per_change() -> None:
    events = [e for e in _report()["plant_events"] if e["kind"] in TRACKED]
    by_kind: dict[str, list[tuple[float, object]]] = {}
    for e in events:
        by_kind.setdefault(e["kind"], []).append((e["t"], e[TRACKED[e["kind"]]]))
    step = 0.005  # the plant's step: a change is recorded in the step that makes it
    assert by_kind["utility_breaker"] == [(OUTAGE_S + step, False), (RESTORE_S + step, True)]
    modes = [mode for _, mode in by_kind["inverter_mode"]]
    assert modes == ["grid-following", "off", "grid-forming"]
    assert by_kind["inverter_mode"][1][0] == OUTAGE_S + step
    for values in by_kind.values():  # edges only: never the same value twice in a row
        assert all(a[1] != b[1] for a, b in pairwise(values))
