"""The power path at a stop (issue 15, items 3, 4, 8, 9): ramp-downs that finish, an inverter
that ignores its commands, inverter status that cannot be true, and retries only on evidence.

Every test drives the simulated charger on the virtual clock; the verdicts read the plant's
ground truth and the controller's own record (its event log in the store).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.config.loader import ConfigError, parse_config
from controller.modes.states import LATCHED, State
from harness import Charger
from simulation.fault_injection import inject


def _charging(make_charger: Callable[..., Charger], **overrides: object) -> Charger:
    c = make_charger(overrides or None)
    c.request("charge")
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=6.0)
    c.run(8.0)  # the default 2 kW/s ramp reaches the full 11 kW
    assert c.world.inverter.ac_power_w > 10000.0
    return c


def _hot_open_events(c: Charger) -> list[str]:
    return [e.text for e in c.store.events(10_000) if e.kind == "hot_open"]


def _opened(c: Charger, name: str, after: float) -> list[float]:
    return [e.t for e in c.world.truth.of_kind("contactor")
            if e.details["name"] == name and not e.details["closed"] and e.t >= after]


# ----- item 3: a stop at full power ramps to zero before anything opens ----------------------
def test_a_stop_at_full_power_ramps_to_zero_before_opening(
        make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    t0 = c.now
    c.request("idle")
    c.run_until(lambda: c.state is State.EV_CONNECTED, limit_s=6.0)
    reasons = [t.reason for t in c.sup.transitions if t.t >= t0]
    assert not any("timeout" in r for r in reasons), reasons
    assert not c.world.truth.of_kind("hot_open")
    assert not _hot_open_events(c)
    opened = _opened(c, "dc", t0)
    assert opened and opened[0] - t0 < 2.0  # 11 kW at the inverter's 20 kW/s, then the checks


def test_shutdown_at_full_power_is_clean(make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    assert c.sup.shutdown()
    assert not c.world.truth.of_kind("hot_open") and not _hot_open_events(c)
    assert not [t for t in c.sup.transitions if "timeout" in t.reason]


def test_a_ramp_down_that_cannot_finish_in_its_timeout_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rampdown_timeout_s"):
        parse_config({"inverter": {"rated_power_w": 22000.0, "ramp_rate_w_per_s": 2000.0},
                      "limits": {"max_charge_power_w": 22000.0}})
    parse_config({"inverter": {"rated_power_w": 22000.0},
                  "limits": {"max_charge_power_w": 22000.0}})  # the defaults finish in time


def test_a_stop_ramps_down_at_the_inverters_rate_in_the_plant(
        make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    c.request("idle")
    c.run(0.2)
    # 0.2 s at 20 kW/s takes about 4 kW off: the plant shows the ramp, neither the old 2 kW/s
    # crawl (10.6 kW) nor a step to zero.
    assert 6000.0 < c.world.inverter.ac_power_w < 10000.0


def test_the_simulated_inverter_cuts_within_one_cycle_not_one_step() -> None:
    """A reduction or an OFF command takes the power away within one command cycle (15 ms,
    docs/inverter-protocol.md), as a real stage does, not in the next plant step."""
    from hal.protocols.inverter_messages import InverterCommand, InverterMode
    from hal.sim.plant.inverter import InverterModel, InverterParams

    inv = InverterModel(InverterParams(), 240.0)
    run = InverterCommand(InverterMode.GRID_FOLLOWING, True, 11000.0, 0.0, 100.0, 100.0)
    t = 0.0
    for _ in range(200):  # start delay, then the 20 kW/s ramp up to 11 kW
        t += 0.005
        inv.step(t, 0.005, run, 240.0, True, 400.0, 0.0)
    assert inv.ac_power_w == 11000.0
    powers = []
    for _ in range(4):
        t += 0.005
        inv.step(t, 0.005, InverterCommand.off(), 240.0, True, 400.0, 0.0)
        powers.append(inv.ac_power_w)
    assert powers[0] > 5000.0 and powers[1] > 0.0  # not a step to zero
    assert powers[2] == 0.0 and inv.mode_name == "off"  # within the cycle


# ----- item 4: an inverter that ignores its commands ------------------------------------------
def test_an_ignoring_inverter_loses_its_ac_side_first_and_dc_opens_without_current(
        make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    inject(c.world, "inverter_ignores_commands", {})
    t0 = c.now
    c.request("idle")
    c.run_until(lambda: c.state in LATCHED, limit_s=c.config.safety.loop.stop_deadline_s)
    assert "POWER_IMPLAUSIBLE" in c.sup.status().faults
    ac, dc = _opened(c, "ac", t0), _opened(c, "dc", t0)
    assert ac and dc and ac[0] < dc[0], (ac, dc)  # the AC side breaks the current first
    assert not c.world.truth.of_kind("hot_open"), c.world.truth.of_kind("hot_open")
    assert not _hot_open_events(c)
    assert ac[0] - t0 < 4.0  # POWER_IMPLAUSIBLE after ~2.8 s, K_AC in the next ticks
    c.run(1.0)
    assert c.state in LATCHED


def test_an_ignoring_inverter_with_a_welded_ac_contactor_opens_dc_as_the_last_resort_recorded(
        make_charger: Callable[..., Charger]) -> None:
    """K_AC welded: the AC side cannot break the current; K_AC not opening is an emergency
    (CONTACTOR_FAIL_OPEN, 0.5 s), the one case K_DC may open under load, and it is recorded."""
    c = _charging(make_charger)
    inject(c.world, "inverter_ignores_commands", {})
    c.world.contactors["ac"].welded = True  # the AC side cannot break the current
    t0 = c.now
    c.request("idle")
    c.run_until(lambda: c.state in LATCHED, limit_s=c.config.safety.loop.stop_deadline_s)
    assert _opened(c, "dc", t0)
    events = _hot_open_events(c)
    assert events and "an emergency" in events[0], events
    assert "CONTACTOR_FAIL_OPEN" in c.sup.status().faults
    assert all(h.emergency for h in c.sup.hot_opens)
    assert c.world.truth.of_kind("hot_open")  # the plant saw it too


def test_a_dc_current_that_does_not_fall_after_the_ac_side_opened_is_the_last_resort(
        make_charger: Callable[..., Charger]) -> None:
    """The AC side opened, the inverter disabled, and the DC current sensor still reads 10 A:
    K_DC opens under load after contactor_timeout_s + 0.5 s as an emergency (DC_NOT_ISOLATED),
    in the controller's record. The sensor is stuck (not offset): with the CHAdeMO car the true
    current swings as its session stops, so only a stuck reading holds 10 A."""
    c = _charging(make_charger)
    inject(c.world, "inverter_ignores_commands", {})
    c.request("idle")
    c.run_until(lambda: c.state is State.STOPPING_RAMP, limit_s=1.0)
    # Stuck from shortly before POWER_IMPLAUSIBLE ends the ramp (too short for
    # MEASUREMENT_DISAGREE): the first sample read in STOPPING_ISOLATE was converted in the tick
    # the state began, so a sensor stuck only from then on would read low once and K_DC open.
    c.run(c.config.safety.plausibility.power_delay_s - 0.2)
    assert c.state is State.STOPPING_RAMP
    inject(c.world, "dc_current_sensor_stuck", {"amps": 10.0})  # below DC_OVERCURRENT, > 2 A
    c.run_until(lambda: c.state is State.STOPPING_ISOLATE, limit_s=1.0)
    entered = c.now
    c.run_until(lambda: not c.world.contactor_closed("dc"), limit_s=2.0)
    assert c.now - entered == pytest.approx(c.config.sequence.contactor_timeout_s + 0.5,
                                            abs=0.08)
    assert "DC_NOT_ISOLATED" in c.sup.status().faults
    assert c.sup.hot_opens and c.sup.hot_opens[-1].emergency
    assert "DC_NOT_ISOLATED" in _hot_open_events(c)[-1]


# ----- item 8: inverter status that cannot be true --------------------------------------------
@pytest.mark.parametrize("lie", ["inverter_reports_off", "inverter_reports_zero_hz",
                                 "inverter_reports_overheated"])
def test_an_impossible_inverter_status_is_a_fault(make_charger: Callable[..., Charger],
                                                  lie: str) -> None:
    c = _charging(make_charger)
    inject(c.world, lie, {})
    c.run_until(lambda: c.state in LATCHED, limit_s=c.config.safety.loop.stop_deadline_s)
    assert "INVERTER_STATUS_IMPLAUSIBLE" in c.sup.status().faults
    assert not c.world.truth.of_kind("hot_open")


def test_an_inverter_still_reporting_power_after_a_stop_does_not_reach_ev_connected(
        make_charger: Callable[..., Charger]) -> None:
    c = _charging(make_charger)
    c.world.home.load_w = 1200.0
    inject(c.world, "inverter_reports_frozen", {})  # "running at 11 kW" whatever it does
    c.request("idle")
    c.run(8.0)
    assert c.state is not State.EV_CONNECTED
    assert c.state in LATCHED
    assert "INVERTER_STATUS_IMPLAUSIBLE" in c.sup.status().faults


# ----- item 9: an automatic retry needs its cause observably gone -----------------------------
def test_comm_lost_is_not_retried_while_the_inverter_is_still_silent(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger({"safety": {"retry": {"latch_after_close_s": 1.0, "backoff_s": 2.0}}})
    c.request("charge")
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=6.0)
    c.run(3.0)
    c.world.inverter_port.inject("silence")
    c.run_until(lambda: c.state is State.FAULT, limit_s=1.0)
    assert "INVERTER_COMM_LOST" in c.sup.status().faults
    c.run(8.0)  # four back-offs (a longer silence also makes the settings read-back stale)
    assert c.state is State.FAULT  # no retry on no evidence
    assert not [e for e in c.store.events(10_000) if e.kind == "retry"]
    closed = [e for e in c.world.truth.of_kind("contactor") if e.details["closed"]
              and e.details["name"] == "dc" and e.t > c.now - 8.0]
    assert not closed
    c.world.inverter_port.clear()  # the inverter talks again: now the retry may come
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=6.0)
    retries = [e for e in c.store.events(10_000) if e.kind == "retry"]
    assert len(retries) == 1 and retries[0].t >= c.now - 6.0


# ----- the verdict reads the controller's own record, not only the plant ---------------------
def test_a_hot_open_only_the_controller_recorded_fails_the_scenario() -> None:
    """The plant may show nothing (the inverter ceased in the same step); the controller's own
    record of opening K_DC under load outside an emergency still fails the verdict."""
    from controller.supervisor.hot_open import HotOpen
    from controller.supervisor.loop import Supervisor
    from simulation.scenarios.runner import run_scenario
    from simulation.scenarios.spec import parse_scenario

    def record_one(sup: Supervisor) -> None:
        if sup.clock.now() >= 9.0 and not sup.hot_opens:
            sup.hot_opens.append(HotOpen(sup.clock.now(), False, 3.5, sup.modes.state,
                                         "K_DC commanded open at 3.5 A (test record)"))

    data = {"scenario": {"name": "record", "duration_s": 10.0, "seed": 2},
            "events": [{"at_s": 0.0, "kind": "request", "mode": "charge"}],
            "expect": [{"kind": "no_truth_event", "event": "hot_open"}]}
    report = run_scenario(parse_scenario(data), progress=None, on_tick=record_one)
    assert not report["passed"]
    assert "controller recorded a hot open" in report["expectations"][0]["explanation"]
    assert [v["invariant"] for v in report["invariant_violations"]] == [7]
    assert report["hot_opens"][0]["current_a"] == 3.5
    assert not [e for e in report["plant_events"] if e["kind"] == "hot_open"]
