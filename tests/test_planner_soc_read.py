"""The planner takes the SoC the controller read on plug-in (``ev.soc_on_plug``) and starts a
probe charge only when no read came (gateway/planner/soc_memory.py)."""

from __future__ import annotations

import tomllib

from gateway.planner.soc_memory import SOC_READ_WAIT_S, SocMemory
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario


def test_the_memory_waits_for_the_controllers_read_then_probes() -> None:
    soc = SocMemory()
    soc.observe(True, None, 100.0)
    assert soc.waiting(True, 100.0) and not soc.needs_probe(True, 100.0)
    soc.observe(True, None, 100.0 + SOC_READ_WAIT_S - 0.1)
    assert soc.waiting(True, 100.0 + SOC_READ_WAIT_S - 0.1)
    assert soc.needs_probe(True, 100.0 + SOC_READ_WAIT_S)  # no read came: a probe charge
    soc.observe(True, 64.0, 120.0)
    assert soc.soc_pct == 64.0 and not soc.needs_probe(True, 200.0)
    assert soc.for_plan(True, 30.0) == 64.0
    soc.observe(True, None, 300.0)  # the car fell silent again: its SoC is kept
    assert soc.soc_pct == 64.0
    soc.observe(False, None, 400.0)  # unplugged: forgotten, and a new plug-in waits anew
    assert soc.soc_pct is None and not soc.needs_probe(False, 400.0)
    soc.observe(True, None, 500.0)
    assert soc.waiting(True, 500.0)


SCENARIO = """
[scenario]
name = "planner-soc-read"
duration_s = 180
seed = 3
start = 2026-12-03T16:00:00
[plant]
ev_soc_pct = 60
ev_capacity_kwh = 5
home_load_w = 1500
{config}
[planner]
step_s = 60
horizon_steps = 4
reserve_pct = 30
max_soc_pct = 90
import_price = [0.55, 0.55, 0.55, 0.12, 0.12, 0.12, 0.12]
load_kw = [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
"""


def _claims(config: str) -> list[dict[str, object]]:
    spec = parse_scenario(tomllib.loads(SCENARIO.format(config=config)))
    report = run_scenario(spec, progress=None)
    claims: list[dict[str, object]] = report["planner"]["claims"]
    return claims


def test_with_the_controllers_read_the_planner_never_probes() -> None:
    """Plugged at the start with no request: the controller reads the SoC in about a second;
    the planner waits for it, then plans from it (V2H at the peak), no probe charge."""
    claims = _claims("")
    assert claims[0].get("waiting_for_soc") is True
    assert not any(c.get("probe") for c in claims), claims
    assert any(c["mode"] == "v2h" for c in claims), claims


def test_without_the_controllers_read_the_planner_probes_after_the_wait() -> None:
    claims = _claims('[config.ev]\nsoc_on_plug = false')
    assert any(c.get("probe") for c in claims), claims
