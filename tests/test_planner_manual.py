"""Home Assistant's manual mode and the planner both claim as ``schedule``: the owner wins.

On the simulator through the real control socket (tests/gateway_fixtures.py), with the real
Home Assistant command handler and the real planner sharing one client and one set of
preferences, on the compressed clock of tests/test_planner_day.py. At the evening peak the
planner carries the home in V2H; the owner picks "charge" in Home Assistant: the charger
charges and stays charging through the planner's re-plans (the planner plans, claims nothing,
says it is suspended); "auto" hands the charger back to the planner. With a hold time the
planner takes over by itself when the hold ends and sets the preferences back to auto.
"""

from __future__ import annotations

import datetime as dt
import itertools

from gateway_fixtures import SimController, run_async
from lockstep import Lockstep
from test_planner_day import EPOCH, H, K, planner_config

from gateway.ha_commands import HomeAssistantCommands
from gateway.planner.service import PlannerService
from gateway.preferences import Preferences
from hal.sim.params import PlantParams
from hal.sim.plant.battery import BatteryParams

HOLD_S = 3600.0  # planner seconds: one hour
POLL_S = 1.0  # controller seconds between the planner's wake-ups (90 planner seconds)
REPLAN_S = 900.0 / K  # the planner's 15-minute re-plan, in controller seconds


def test_a_manual_mode_from_home_assistant_suspends_the_planner_until_auto() -> None:
    _run(_until_auto)


def test_a_manual_hold_ends_after_its_time_and_the_planner_takes_over() -> None:
    _run(_hold_ends, hold_s=HOLD_S)


def _run(body: object, hold_s: float | None = None) -> None:
    plant = PlantParams(ev_soc_pct=60.0, home_load_w=1500.0,
                        battery=BatteryParams(capacity_kwh=60.0 / K))
    sim = SimController({}, plant=plant, lockstep=True)
    try:
        run_async(_with_planner(sim, body, hold_s), timeout_s=300.0)  # type: ignore[arg-type]
    finally:
        sim.close()
    assert sim.failure is None, f"the control loop failed: {sim.failure!r}"
    assert not sim.violations, "\n".join(str(v) for v in sim.violations)


async def _with_planner(sim: SimController, body: object, hold_s: float | None) -> None:
    async with sim.client(poll_interval_s=0.02) as client:
        assert await client.wait_connected(30.0)
        steps = Lockstep(sim, client)
        await steps.start()
        prefs = Preferences()
        api = steps.api
        planner = PlannerService(planner_config(), poll_s=POLL_S, sleep=steps.sleep, prefs=prefs,
                                 manual_hold_s=hold_s, clock=lambda: EPOCH + dt.timedelta(
                                     seconds=K * api.status.t if api.status else 0.0))
        ha = HomeAssistantCommands(api, prefs, lease_s=30.0)
        steps.spawn(planner.run(api))
        try:
            await body(steps, planner, ha, prefs)  # type: ignore[operator]
        finally:
            await steps.stop()


async def _mode(sim: SimController) -> tuple[str, str]:
    return await sim.call(lambda sup, _w: (sup.status().state, sup.status().request_source))


def _replans_since(planner: PlannerService, n: int) -> list[float]:
    """Controller seconds between the plans made since the ``n``-th."""
    made = [(p.made_at - EPOCH).total_seconds() / K for p in planner.history[n - 1:]]
    return [b - a for a, b in itertools.pairwise(made)]


async def _until_auto(steps: Lockstep, planner: PlannerService, ha: HomeAssistantCommands,
                      prefs: Preferences) -> None:
    sim = steps.sim
    await steps.run_to(1.5 * H)  # 17:30: the peak, the planner's V2H
    assert await _mode(sim) == ("energised_v2h", "schedule")
    assert prefs.planner_status == "planning" and prefs.plan["mode"] == "v2h", prefs
    outcome = await ha.handle("mode", b"charge")
    assert outcome.ok, outcome
    plans_before = len(planner.history)
    await steps.run_to(2.5 * H)  # an hour later: four re-plans at the peak
    assert len(planner.history) >= plans_before + 4, "the planner stopped planning"
    gaps = _replans_since(planner, plans_before)
    assert max(gaps) <= REPLAN_S + POLL_S + 1e-6, f"re-plans late: {gaps}"
    state = await _mode(sim)
    assert state[0] == "energised_charge", f"the planner overrode the owner: {state}"
    assert planner.suspended and prefs.planner_status.startswith("suspended: manual charge")
    assert prefs.planner_status.endswith("until the owner chooses auto"), prefs.planner_status
    assert prefs.manual_mode == "charge" and prefs.plan["savings"] is not None
    outcome = await ha.handle("mode", b"auto")
    assert outcome.ok, outcome
    await steps.run_until(lambda sup, _w: sup.status().state == "energised_v2h",
                          limit_s=0.5 * H, step_s=POLL_S)
    assert await _mode(sim) == ("energised_v2h", "schedule")
    assert prefs.planner_status == "planning" and not planner.suspended


async def _hold_ends(steps: Lockstep, planner: PlannerService, ha: HomeAssistantCommands,
                     prefs: Preferences) -> None:
    sim = steps.sim
    await steps.run_to(1.5 * H)
    assert await _mode(sim) == ("energised_v2h", "schedule")
    assert (await ha.handle("mode", b"charge")).ok
    start = steps.now
    await steps.run_to(start + 0.5 * HOLD_S / K)  # half the hold: still the owner's
    assert (await _mode(sim))[0] == "energised_charge"
    assert prefs.planner_status.startswith("suspended: manual charge until "), prefs
    await steps.run_until(lambda sup, _w: sup.status().state == "energised_v2h",
                          limit_s=HOLD_S / K + 0.25 * H, step_s=POLL_S)
    end = steps.now
    assert end >= start + HOLD_S / K, "the hold ended early"
    assert prefs.manual_mode is None and prefs.power_limit_w is None  # Home Assistant: auto
    assert prefs.planner_status.startswith("planning"), prefs.planner_status
