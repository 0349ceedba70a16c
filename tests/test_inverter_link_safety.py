"""The inverter link end to end: every way the link can fail leaves the charger safe."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.links.bus_state import BusState, classify
from controller.modes.states import State
from hal.interfaces import CanFrame
from hal.protocols.inverter_messages import InverterCommand, InverterMode
from harness import Charger


def charging(make_charger: Callable[..., Charger]) -> Charger:
    charger = make_charger()
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)
    charger.run(5.0)
    assert charger.world.inverter.ac_power_w > 5000
    return charger


def assert_safe(charger: Charger) -> None:
    world = charger.world
    assert charger.state in (State.FAULT, State.ESTOP)
    assert world.inverter.ac_power_w == 0.0
    assert not any(world.contactor_closed(n) for n in ("dc", "ac", "precharge", "v2l"))


def test_settings_are_written_and_verified_before_energising(charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)
    port = charger.world.inverter_port
    assert port.settings is not None
    assert port.command_timeout_s == charger.config.inverter.command_timeout_s
    assert charger.sup.inverter_settings.verified(charger.now)


@pytest.mark.parametrize(("fault", "detail"), [
    ("settings_readback_corrupt", "read-back mismatch: ov1_clearing_time_s"),
    ("settings_ignored", "no settings read-back"),
])
def test_settings_readback_problem_keeps_the_charger_de_energised(
        make_charger: Callable[..., Charger], fault: str, detail: str) -> None:
    charger = make_charger()
    charger.world.inverter_port.inject(fault)
    charger.request("charge")
    charger.run(6.0)
    assert charger.state is State.FAULT
    assert not charger.world.truth.of_kind("contactor")  # nothing ever moved
    record = [t for t in charger.sup.trip_log if t.function == "INVERTER_SETTINGS"]
    assert record and detail in record[0].detail, charger.sup.trip_log


@pytest.mark.parametrize(("bit", "code"), [(6, "INV_OVERTEMPERATURE"), (11, "INV_HARDWARE")])
def test_inverter_fault_code_latches_the_matching_fault(
        make_charger: Callable[..., Charger], bit: int, code: str) -> None:
    charger = charging(make_charger)
    charger.world.inverter.fault(1 << bit)
    charger.run(0.2)
    assert code in charger.sup.status().faults
    assert_safe(charger)


def test_an_island_the_inverter_reports_is_the_grid_windows_island_not_a_latched_fault(
        make_charger: Callable[..., Charger]) -> None:
    """FaultWord bit 7: the utility is gone, not the equipment broken (issue 16 item 9). The
    charger stops as for its own island suspicion, latches nothing, and the inverter clears the
    bit on the OFF command; the return follows enter service."""
    charger = charging(make_charger)
    charger.world.inverter.fault(1 << 7)
    charger.run(2.0)
    assert "INV_ISLANDING" not in charger.sup.status().faults
    assert charger.state not in (State.FAULT, State.ENERGISED_CHARGE)
    assert any(t.function == "GRID_WINDOW" and "anti-islanding" in t.detail
               for t in charger.sup.trip_log), charger.sup.trip_log
    assert charger.world.inverter.fault_word == 0
    assert charger.world.inverter.ac_power_w == 0.0
    assert not any(charger.world.contactor_closed(n) for n in ("dc", "ac"))


def test_bad_crc_from_the_inverter_is_dropped_counted_and_ends_in_comm_lost(
        make_charger: Callable[..., Charger]) -> None:
    charger = charging(make_charger)
    charger.world.inverter_port.inject("bad_crc")
    charger.run(0.3)
    assert charger.sup.inverter.counters["bad_crc"] > 5
    assert "INVERTER_COMM_LOST" in charger.sup.status().faults
    assert_safe(charger)


def test_frozen_inverter_counter_is_refused_as_stale(make_charger: Callable[..., Charger]) -> None:
    charger = charging(make_charger)
    charger.world.inverter_port.inject("frozen_counter")
    charger.run(0.3)
    assert charger.sup.inverter.counters["bad_counter"] > 5
    assert "INVERTER_COMM_LOST" in charger.sup.status().faults
    assert_safe(charger)


def test_bus_off_is_detected_logged_and_recovery_needs_a_reset(
        make_charger: Callable[..., Charger]) -> None:
    charger = charging(make_charger)
    charger.world.can_bus_off(0.5)
    charger.run(0.1)
    assert charger.sup.inverter.bus.state is BusState.BUS_OFF
    assert "INVERTER_COMM_LOST" in charger.sup.status().faults
    charger.run(1.0)
    assert charger.sup.inverter.bus.state is BusState.ACTIVE  # restarted
    assert_safe(charger)  # recovery alone energises nothing
    texts = [e.text for e in charger.store.events(50) if e.kind == "can"]
    assert texts == ["inverter CAN bus error-active -> bus-off",
                     "inverter CAN bus bus-off -> error-active"]
    charger.sup.request_reset()
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)


def test_frozen_controller_then_resumes_latches_the_inverter_timeout(
        make_charger: Callable[..., Charger]) -> None:
    charger = charging(make_charger)
    charger.world.clock.advance_to(charger.now + 0.5)  # the loop hangs; the plant runs on
    assert charger.world.inverter.mode_name == "off"
    charger.run(0.1)  # the loop comes back: the inverter reports why it stopped
    assert "INV_COMMAND_TIMEOUT" in charger.sup.status().faults
    assert_safe(charger)


def test_send_failure_is_a_counted_link_event_not_a_crash(
        make_charger: Callable[..., Charger]) -> None:
    charger = charging(make_charger)
    charger.hw.can["inverter"].close()  # the link goes away under the controller
    charger.run(0.3)
    assert charger.sup.inverter.counters["send_failures"] > 5
    assert "INTERNAL_ERROR" not in charger.sup.status().faults
    assert charger.world.inverter.mode_name == "off"  # the inverter's own timeout
    assert charger.state is State.FAULT


def test_out_of_range_command_is_refused_not_wrapped(charger: Charger) -> None:
    from hal.errors import ProtocolError

    with pytest.raises(ProtocolError, match="P_Set"):
        charger.sup.inverter.send(InverterCommand(InverterMode.GRID_FOLLOWING, True,
                                                  40000.0, 0.0, 10.0, 10.0))


@pytest.mark.parametrize(("flags", "data1", "state"), [
    (0x040, 0x00, BusState.BUS_OFF), (0x100, 0x00, BusState.ACTIVE),
    (0x004, 0x20, BusState.PASSIVE), (0x004, 0x08, BusState.WARNING),
    (0x004, 0x40, BusState.ACTIVE), (0x020, 0x00, None),
])
def test_error_frame_classification(flags: int, data1: int, state: BusState | None) -> None:
    frame = CanFrame(flags, bytes([0, data1, 0, 0, 0, 0, 0, 0]), 0.0, is_error_frame=True)
    assert classify(frame) is state


@pytest.mark.parametrize(("event", "element", "code", "clearing_s"), [
    ("voltage", 1.15, "INV_AC_OVERVOLTAGE", 2.0),     # OV1: 1.10 p.u., 2 s (Category II)
    ("voltage", 1.25, "INV_AC_OVERVOLTAGE", 0.16),    # OV2: 1.20 p.u., 0.16 s
    ("frequency", 62.5, "INV_AC_FREQUENCY", 0.16),    # OF2: 62.0 Hz, 0.16 s
])
def test_the_simulated_inverter_runs_the_trip_settings_it_was_sent(
        make_charger: Callable[..., Charger], event: str, element: float, code: str,
        clearing_s: float) -> None:
    charger = charging(make_charger)
    world = charger.world
    start = charger.now
    if event == "voltage":
        world.grid.set_voltage(element)
    else:
        world.grid.set_frequency(element)
    charger.run_until(lambda: bool(world.truth.of_kind("inverter_trip")), limit_s=5.0)
    tripped = world.truth.of_kind("inverter_trip")[0]
    assert clearing_s - 0.01 <= tripped.t - start <= clearing_s + 0.03
    assert world.inverter.mode_name == "off"
    # The fault word comes in INV_FAULT, every 100 ms (inverter.dbc), read at the next tick: the
    # code is named within 120 ms of the trip, at whatever phase the frame's cycle is.
    charger.run(0.1 + 0.02)
    assert code in charger.sup.status().faults
