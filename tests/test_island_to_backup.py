"""An island the inverter detects during V2H leads to backup, not a dead home (issue 16.9)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

GRID = Path(__file__).resolve().parent.parent / "scenarios" / "grid"
DARK_LIMIT_S = 0.5


@pytest.mark.parametrize("offset_s", [0.0, 0.013, 0.027, 0.041, 0.055, 0.069, 0.083, 0.097])
def test_the_island_becomes_backup_whatever_the_frame_timing(offset_s: float) -> None:
    """The inverter's fault frame (every 100 ms) and the controller's OFF command race: the
    island must lead to backup at every point of the frame cycle, never to a latched fault."""
    data = tomllib.loads((GRID / "island-v2h-backup.toml").read_text(encoding="utf-8"))
    for event in data["events"]:
        if event["kind"] == "grid_island":
            event["at_s"] += offset_s
    report = run_scenario(parse_scenario(data), progress=None)
    assert report["final"]["state"] == "backup_island", report["final"]
    assert not [t for t in report["trips"] if t["function"] == "INV_ISLANDING"]
    island = next(e["t"] for e in report["plant_events"] if e["kind"] == "island_formed")
    dark = [e["t"] for e in report["plant_events"]
            if e["kind"] == "home_deenergized" and e["t"] >= island]
    lit = [e["t"] for e in report["plant_events"]
           if e["kind"] == "home_energized" and e["t"] >= island]
    assert dark and lit and lit[0] - dark[0] <= DARK_LIMIT_S
