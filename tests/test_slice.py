"""The vertical slice end to end: production code against the simulated charger."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.modes.states import State
from hal.protocols.inverter_messages import InverterMode
from harness import Charger

DC_CONTACTORS = ("dc", "precharge")


def test_starts_safe_then_idles(charger: Charger) -> None:
    # Every output starts de-energised: no coil is driven before the first tick.
    assert all(not c.coil_energised for c in charger.hw.contactors.values())  # type: ignore[attr-defined]
    charger.run(1.0)
    assert charger.state is State.EV_CONNECTED
    assert not charger.world.contactor_closed("dc")
    assert charger.world.contactor_closed("grid")  # normally closed: home stays on the utility
    assert charger.world.inverter.mode_name == "off"


def test_charge_session_moves_energy_into_the_ev(charger: Charger) -> None:
    soc0 = charger.world.battery.soc_pct
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(30.0)
    world = charger.world
    assert world.contactor_closed("dc") and world.contactor_closed("ac")
    assert not world.contactor_closed("precharge")
    assert world.inverter.mode_name == "grid-following"
    # 11 kW configured, inverter-rated 11 kW, ramp 2 kW/s: at full power within ~6 s.
    assert world.inverter.ac_power_w == pytest.approx(11000, rel=0.01)
    assert world.battery.current_a > 20.0
    assert world.battery.soc_pct > soc0
    assert world.truth.energy.ev_charged_kwh > 0.05
    assert world.grid_import_w == pytest.approx(world.home.load_w + 11000, rel=0.01)
    status = charger.sup.status()
    assert status.ev_power_w is not None and status.ev_power_w > 9000
    assert status.grid_voltage_v == pytest.approx(240.0, rel=0.005)


def test_dc_contactor_closes_only_after_precharge(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.world.contactor_closed("dc"), limit_s=3.0)
    world = charger.world
    difference = abs(world.dc_link_v - world.battery.terminal_v())
    assert difference <= charger.config.sequence.precharge_tolerance_v + 2.0
    closes = [e for e in world.truth.of_kind("contactor") if e.details["closed"]]
    order = [e.details["name"] for e in closes]
    assert order[:2] == ["precharge", "dc"]


def test_v2h_follows_a_stepping_home_load_without_export(charger: Charger) -> None:
    charger.request("v2h")
    charger.run_until(lambda: charger.state is State.ENERGISED_V2H, limit_s=3.0)
    target = charger.config.v2h.import_target_w
    for load in (1500.0, 4000.0, 800.0, 2500.0):
        charger.world.home.load_w = load
        charger.run(20.0)
        assert charger.world.grid_import_w == pytest.approx(target, abs=60.0), load
        assert charger.world.inverter.ac_power_w < 0  # discharging into the home
    # A load that drops faster than any controller can see it exports for a moment; the
    # export cut must end it within a few ticks, and it must never persist.
    truth = charger.world.truth
    starts = truth.of_kind("export_started")
    stops = truth.of_kind("export_stopped")
    assert len(starts) == len(stops) <= 1
    for start, stop in zip(starts, stops, strict=True):
        assert stop.t - start.t < 0.25, (start, stop)
    assert truth.energy.grid_export_kwh < 0.0002
    assert truth.energy.home_from_ev_kwh > 0.03


def test_v2h_refuses_below_reserve(make_charger: Callable[..., Charger]) -> None:
    from hal.sim.params import PlantParams

    charger = make_charger(plant=PlantParams(ev_soc_pct=35.0))
    charger.request("v2h")
    charger.run(5.0)
    assert charger.state is State.EV_CONNECTED
    assert not charger.world.contactor_closed("dc")


def test_switch_from_charge_to_v2h_ramps_through_zero(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(8.0)
    charger.request("v2h")
    charger.run_until(lambda: charger.state is State.ENERGISED_V2H, limit_s=10.0)
    assert abs(charger.world.inverter.ac_power_w) < 200.0
    assert charger.world.contactor_closed("dc")  # no contactor cycling for a direction change
    charger.run(20.0)
    assert charger.world.inverter.ac_power_w < -500.0


def test_estop_opens_everything_and_latches(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(5.0)
    tick = charger.config.control.tick_s
    charger.world.press_estop()
    charger.run(tick)
    assert charger.state is State.ESTOP
    assert all(not c.coil_energised for c in charger.hw.contactors.values())  # type: ignore[attr-defined]
    assert charger.sup.last_dispatch is not None
    assert charger.sup.last_dispatch.command.mode is InverterMode.OFF
    charger.run(0.05)  # coil delay: the hardware loop cut the supply anyway
    assert not charger.world.contactor_closed("dc")
    assert not charger.world.contactor_closed("ac")
    assert charger.world.inverter.mode_name == "off"
    charger.world.release_estop()
    charger.run(5.0)
    assert charger.state is State.ESTOP  # latched: releasing the button is not a reset
    assert "ESTOP" in charger.sup.status().faults
    charger.sup.request_reset()
    charger.run(2.0)
    assert charger.state is State.ENERGISED_CHARGE or charger.state.value.startswith("start")


def test_reset_refused_while_estop_still_pressed(charger: Charger) -> None:
    charger.world.press_estop()
    charger.run(0.5)
    charger.sup.request_reset()
    charger.run(0.5)
    assert charger.state is State.ESTOP


def test_latched_fault_survives_restart(make_charger: Callable[..., Charger], tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "state.db")
    first = make_charger(store_path=db)
    first.world.press_estop()
    first.run(0.5)
    first.close()
    second = make_charger(store_path=db)
    second.request("charge")
    second.run(3.0)
    assert second.state is State.FAULT
    assert not second.world.contactor_closed("dc")
    assert "ESTOP" in second.sup.status().faults
    second.sup.request_reset()
    second.run(3.0)
    assert second.state is not State.FAULT
    assert second.store.active_faults() == []


def test_meter_disappearing_trips_to_safe_state(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.world.smbus.inject(charger.config.hal.i2c.meter.address, "absent")
    charger.run(0.1)
    assert charger.state is State.FAULT
    assert "METER_LOST" in charger.sup.status().faults
    charger.run(0.1)
    assert not charger.world.contactor_closed("dc")
    assert charger.world.inverter.mode_name == "off"


def test_inverter_silence_is_comm_lost(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.world.inverter_port.inject("silence")
    charger.run(0.3)
    assert charger.state is State.FAULT
    assert "INVERTER_COMM_LOST" in charger.sup.status().faults


def test_frozen_controller_makes_the_inverter_cease(charger: Charger) -> None:
    """The loop stops (hung process): the inverter's command timeout is the second layer."""
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(5.0)
    assert charger.world.inverter.ac_power_w > 1000
    charger.world.clock.advance_to(charger.now + 0.3)  # plant runs, controller does not
    assert charger.world.inverter.mode_name == "off"
    assert charger.world.inverter.ac_power_w == 0.0
    assert charger.world.inverter.ceased_for_timeout == 1


def test_shutdown_ramps_then_opens(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(8.0)
    assert charger.sup.shutdown()
    world = charger.world
    assert not world.truth.of_kind("hot_open")
    assert all(not world.contactor_closed(n) for n in ("dc", "ac", "precharge", "v2l"))
    assert world.inverter.mode_name == "off"
    assert "safe shutdown" in charger.store.events(1)[0].text


def test_grid_outage_stops_charging(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.world.outage()
    charger.run(1.0)
    assert charger.state.value.startswith("stopping") or charger.state is State.EV_CONNECTED
    charger.run(8.0)
    assert charger.state is State.EV_CONNECTED
    assert charger.world.inverter.mode_name == "off"
    assert not charger.world.truth.of_kind("export_started")


def test_plant_voltage_reaches_the_controller_through_the_meter_driver(charger: Charger) -> None:
    charger.world.grid.set_voltage(1.05)
    charger.world.grid.set_frequency(59.5)
    charger.run(0.2)
    reading = charger.hw.meter.read()
    assert reading.voltage_rms_v == pytest.approx(252.0, rel=0.002)
    assert reading.frequency_hz == pytest.approx(59.5, abs=0.03)


def test_power_command_over_virtual_can_moves_the_plant(charger: Charger) -> None:
    charger.request("charge", power_w=3000.0)
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=3.0)
    charger.run(5.0)
    assert charger.world.inverter_port.accepted_commands > 100
    assert charger.world.inverter.ac_power_w == pytest.approx(3000.0, abs=5.0)
    status = charger.sup.inverter.status
    assert status is not None and status.ac_power_w == pytest.approx(3000.0, abs=5.0)


def test_the_daemon_keeps_its_in_memory_logs_bounded(make_charger: Callable[..., Charger]
                                                     ) -> None:
    charger = make_charger()
    charger.sup._history = 3  # what `v2xctl run` sets (DAEMON_HISTORY), made small
    for i in range(12):
        charger.request("charge" if i % 2 else "idle", 1000.0 + i)
        charger.run(0.1)
    assert 3 <= len(charger.sup.request_log) <= 6
    assert charger.sup.request_log[-1].power_w == 1011.0  # the newest are kept
    assert len(charger.store.events(1000)) > 12  # the store still has everything
