"""The start and stop sequences' own states: EV connected, welding checks, insulation test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.modes.states import DE_ENERGISED, State
from controller.supervisor.loop import Supervisor
from hal.sim.params import PlantParams
from harness import Charger


def states_entered(charger: Charger) -> list[str]:
    return [t.dest for t in charger.sup.transitions]


def test_an_ev_plugged_in_is_its_own_state_and_unplugging_returns_to_idle(
        make_charger: Callable[..., Charger]) -> None:
    charger = make_charger(plant=PlantParams(ev_present=False))
    charger.run(1.0)
    assert charger.state is State.IDLE
    charger.world.plug_ev()
    charger.run(0.5)
    assert charger.state is State.EV_CONNECTED
    charger.world.unplug_ev()
    charger.run(0.5)
    assert charger.state is State.IDLE
    assert State.EV_CONNECTED in DE_ENERGISED  # nothing energised while only connected
    assert not charger.world.truth.of_kind("contactor")


def test_a_start_proves_the_dc_side_open_and_insulated_before_precharge(
        charger: Charger) -> None:
    charger.request("charge", 3000.0)
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=8.0)
    order = states_entered(charger)
    start = order.index(State.STARTING_WELD_CHECK.value)
    # The EV link (issue 19): d2 and the vehicle's contactors between the test and the precharge.
    assert order[start:start + 4] == [State.STARTING_WELD_CHECK.value,
                                      State.STARTING_INSULATION_TEST.value,
                                      State.STARTING_EV_CLOSE.value,
                                      State.STARTING_PRECHARGE.value]
    test = next(t for t in charger.sup.transitions if t.dest == "starting_insulation_test")
    done = next(t for t in charger.sup.transitions if t.dest == "starting_precharge")
    assert done.t - test.t >= charger.config.sequence.insulation_test_s - 1e-9


def test_a_stop_proves_the_dc_contacts_parted_before_idle(charger: Charger) -> None:
    charger.request("charge", 3000.0)
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=8.0)
    charger.request("idle")
    charger.run_until(lambda: charger.state is State.EV_CONNECTED, limit_s=10.0)
    check = next(t for t in charger.sup.transitions if t.dest == "stopping_weldcheck")
    passed = next(t for t in charger.sup.transitions
                  if t.source == "stopping_weldcheck" and t.dest == "idle")
    # The link bleeds (tau 20 s): parting 20 V from a ~360 V pack takes about a second.
    assert 0.5 < passed.t - check.t < charger.config.sequence.weld_check_timeout_s
    assert charger.world.inverter.mode_name == "off"
    assert not charger.sup.status().faults


def test_a_weld_hidden_from_the_aux_contact_is_found_before_closing(
        make_charger: Callable[..., Charger]) -> None:
    charger = make_charger()
    charger.world.interlocks.aux_cut.add("dc")  # the aux wire is cut: it always reads open
    charger.world.contactors["dc"].welded = True  # and the main contacts are welded shut
    charger.run(1.0)
    charger.request("charge", 3000.0)
    charger.run(5.0)
    assert charger.state is State.FAULT
    assert charger.sup.status().faults == ("CONTACTOR_WELDED",)
    trip = charger.sup.trip_log[-1]
    assert "before closing" in trip.detail and "within 20 V" in trip.detail
    # Nothing else closed: the check runs with every output de-energised.
    assert not [e for e in charger.world.truth.of_kind("contactor")
                if e.details.get("closed") and e.details.get("name") != "dc"]


def test_a_contact_that_welds_while_opening_is_found_after_opening(
        make_charger: Callable[..., Charger]) -> None:
    charger = make_charger()
    charger.request("charge", 3000.0)
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=8.0)
    charger.request("idle")
    welded: list[float] = []

    def weld_as_it_opens(sup: Supervisor) -> None:
        # The contacts weld in the tick K_DC is commanded open, and its aux cannot see it (a
        # broken aux wire then is no uncommanded change: the command changed in that tick).
        if not welded and not charger.hw.contactors["dc"].commanded_closed:
            charger.world.interlocks.aux_cut.add("dc")
            charger.world.contactors["dc"].welded = True
            welded.append(charger.now)

    charger.sup.run(duration_s=8.0, on_tick=weld_as_it_opens)
    assert welded
    assert charger.state is State.FAULT
    assert "CONTACTOR_WELDED" in charger.sup.status().faults
    assert "after opening" in next(t.detail for t in charger.sup.trip_log
                                   if t.function == "CONTACTOR_WELDED")


@pytest.mark.parametrize("alarm", [True, False])
def test_insulation_not_proven_means_no_precharge(make_charger: Callable[..., Charger],
                                                  alarm: bool) -> None:
    charger = make_charger()
    charger.run(1.0)
    if alarm:  # the IMD alarms: protection trips at once
        charger.world.interlocks.insulation_fault = True
    charger.request("charge", 3000.0)
    charger.run(0.05)
    if not alarm:  # the IMD never settles within the test time (the alarm flickers)
        def flicker() -> bool:
            locks = charger.world.interlocks
            locks.insulation_fault = not locks.insulation_fault
            return charger.state is not State.STARTING_INSULATION_TEST
        charger.sup.run(stop=flicker, duration_s=10.0)
    charger.run(1.0)
    assert charger.state is State.FAULT or charger.state is State.EV_CONNECTED
    assert "INSULATION_FAULT" in charger.sup.status().faults
    assert State.STARTING_PRECHARGE.value not in states_entered(charger)
    assert not charger.world.contactor_closed("precharge")


@pytest.mark.parametrize("from_idle", [False, True])
def test_an_outage_while_only_connected_islands_the_home_only_when_configured(
        make_charger: Callable[..., Charger], from_idle: bool) -> None:
    charger = make_charger({"backup": {"from_idle": from_idle}})
    charger.run(2.0)  # past the SoC read on plug-in (ev.soc_on_plug: about 1 s)
    assert charger.state is State.EV_CONNECTED
    assert charger.sup.ev_hooks.session.phase == "plugged"
    charger.world.outage()
    charger.run(3.0)
    if not from_idle:
        assert charger.state is State.EV_CONNECTED
        assert charger.world.contactor_closed("grid") and not charger.world.contactor_closed("dc")
        return
    assert charger.state is State.BACKUP_ISLAND
    order = states_entered(charger)
    # The full start sequence while K_GRID opens (they overlap); forming only once it is open.
    assert order[order.index("ev_connected") + 1:] == [
        "starting_weldcheck", "starting_insulation_test", "starting_ev_close",
        "starting_precharge", "starting_close_dc", "starting_close_ac", "backup_island"]
    truth = charger.world.truth
    grid_opened = next(e.t for e in truth.of_kind("contactor")
                       if e.details["name"] == "grid" and not e.details["closed"])
    formed = truth.of_kind("home_energized")[-1].t
    assert grid_opened < formed
    assert not charger.world.contactor_closed("grid")
    assert charger.world.inverter.mode_name == "grid-forming"
    dark = charger.world.truth.of_kind("home_energized")[-1].t - charger.world.truth.of_kind(
        "home_deenergized")[-1].t
    assert dark < 2.0
    charger.request("idle", source="technician")  # an explicit stop ends the backup
    charger.run(5.0)
    assert charger.state is State.EV_CONNECTED
    assert charger.world.contactor_closed("grid")  # back on the (dead) utility side: dark



def test_an_insulation_alarm_during_precharge_repeats_the_test(charger: Charger) -> None:
    """Found by the property test: a blip shorter than protection's filter, during the precharge,
    must not let K_DC close on the strength of the test that came before it."""
    charger.request("charge", 3000.0)
    charger.run_until(lambda: charger.state is State.STARTING_PRECHARGE, limit_s=5.0)
    locks = charger.world.interlocks
    locks.insulation_fault = True
    charger.run(0.06)  # shorter than the IMD input's filter: no trip
    locks.insulation_fault = False
    cleared = charger.now
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=10.0)
    assert not charger.sup.status().faults
    retest = [t for t in charger.sup.transitions
              if t.source == "starting_precharge" and t.dest == "starting_insulation_test"]
    assert retest and "starts again" in retest[0].reason
    close_dc = next(t for t in charger.sup.transitions if t.dest == "starting_close_dc")
    assert close_dc.t - cleared >= charger.config.sequence.insulation_test_s
