"""Must-show 1: a technician's terminal on the simulator's pty drives the charger.

The terminal is pyserial on the pty path the simulator prints for people (the far end of a
virtual null-modem cable); the loop runs on the virtual clock in this thread and serves the
console from ``on_tick``, exactly as ``v2xctl run`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.dispatch.arbitration import Source
from controller.modes.states import State
from tests.test_console_bench import OPERATOR_PIN, TECHNICIAN_PIN, Bench


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(backup={"return_delay_s": 1.0})
    yield b
    b.close()


def test_technician_logs_in_switches_mode_and_sees_the_plant_respond(bench: Bench) -> None:
    banner = bench.until(b"]> ").decode()
    assert "technician console" in banner and "viewer]> " in banner
    assert "needs the operator role" in bench.type("mode charge")
    assert bench.charger.state is not State.ENERGISED_CHARGE

    assert bench.type("login", until=b"PIN: ").endswith("PIN: ")
    answer = bench.type(OPERATOR_PIN)
    assert "*" not in answer and OPERATOR_PIN not in answer  # not echoed, not even its length
    assert "logged in as operator" in answer and "operator]> " in answer
    assert "accepted as user request" in bench.type("mode charge")
    bench.run_until(lambda: bench.charger.state is State.ENERGISED_CHARGE, 60.0)
    bench.run(5.0)
    assert bench.charger.world.contactor_closed("dc")
    assert bench.charger.world.inverter.ac_power_w > 1000.0  # the plant charges the EV

    text = bench.type("status")
    assert "state      energised_charge" in text
    assert "charge (won by user)" in text
    reply = bench.request("status :7")
    assert reply["ok"] and reply["seq"] == "7" and reply["cmd"] == "status"
    assert reply["data"]["state"] == "energised_charge"
    assert reply["data"]["ev_power_w"] > 1000.0
    assert "no latched faults" in bench.type("faults")

    bench.charger.world.press_estop()
    bench.run_until(lambda: bench.charger.state is State.ESTOP, 2.0)
    faults = bench.type("faults")
    assert "ESTOP" in faults and "check:" in faults
    assert "estop" in bench.type("sta")  # a unique prefix
    assert "needs the technician role" in bench.type("reset")

    assert "logged in as technician" in bench.type(f"login {TECHNICIAN_PIN}")
    bench.charger.world.release_estop()
    bench.run(0.5)
    assert "reset requested" in bench.type("reset")
    bench.run(0.5)
    assert "no latched faults" in bench.type("faults")
    assert "latched faults cleared" in bench.type("log 30")


def test_machine_mode_frames_sequence_ids_and_async_events(bench: Bench) -> None:
    bench.until(b"]> ")
    login = bench.request(f"login {TECHNICIAN_PIN} :1")
    assert login == {"cmd": "login", "data": {"role": "technician"}, "ok": True, "seq": "1",
                     "text": "logged in as technician"}
    assert bench.request("events on :2")["data"] == {"events": True}
    assert bench.request("mode charge :3")["data"]["source"] == "technician"
    bench.run_until(lambda: bench.charger.state is State.ENERGISED_CHARGE, 60.0)
    bench.run(0.2)
    assert bench.request("whoami :4")["seq"] == "4"
    states = [e["state"] for e in bench.events if e["event"] == "state"]
    assert "starting_precharge" in states and states[-1] == "energised_charge"
    sources = [e["mode_source"] for e in bench.events]
    first = sources.index("technician")  # the claim arrives when the pty delivers it
    assert set(sources[:first]) <= {"default"} and set(sources[first:]) == {"technician"}

    bench.send(b"$status :9*0000\r\n")
    refused = bench.reply()
    assert refused["ok"] is False and refused["seq"] == "9"
    assert refused["error"].startswith("checksum mismatch")
    bench.send(b"$status\r\n")
    assert "checksum missing" in bench.reply()["error"]
    assert Source.TECHNICIAN in bench.charger.sup.arbiter.claims
    assert bench.request("logout")["ok"]
    assert Source.TECHNICIAN not in bench.charger.sup.arbiter.claims  # released on logout


def test_technician_calibrates_a_meter_channel_against_a_reference(bench: Bench) -> None:
    bench.until(b"]> ")
    assert "needs the technician role" in bench.type("calibrate meter.voltage 241.2")
    bench.type(f"login {TECHNICIAN_PIN}")
    point = bench.request("calibrate meter.voltage 241.2 :1")
    assert point["ok"] and point["data"]["points"] == 1
    measured = point["data"]["measured"]
    assert measured == pytest.approx(240.0, abs=2.0)  # the simulated meter's raw reading
    saved = bench.request("calibrate meter.voltage save Fluke 87V s/n 1234 :2")
    assert saved["ok"], saved
    assert saved["data"]["gain"] == pytest.approx(241.2 / measured)
    listed = bench.type("calibrate list")
    assert "meter.voltage" in listed and "Fluke 87V s/n 1234" in listed
    bench.type("calibrate meter.voltage 300")
    refused = bench.request("calibrate meter.voltage save Fluke :3")
    assert not refused["ok"] and "nothing stored" in refused["error"]
    assert "refused: unknown channel" in bench.type("calibrate meter.nonsense 1")
    stored = bench.charger.store.connection.execute(
        "SELECT COUNT(*) FROM calibrations").fetchone()[0]
    assert stored == 1  # only the plausible one
    assert any(e.command.startswith("calibrate meter.voltage save")
               for e in bench.audit.entries())


def test_watch_streams_status_until_a_key(bench: Bench) -> None:
    bench.until(b"]> ")
    assert "press any key to stop" in bench.type("watch", until=b"stop\r\n")
    bench.run(2.5)
    assert bytes(bench.seen).count(b"faults: ") >= 2  # one status line a second
    bench.send(b"x")
    assert "watch stopped" in bench.until(b"]> ").decode()
    bench.seen.clear()
    bench.run(2.0)
    assert b"faults: " not in bench.seen


def test_power_limit_keeps_the_roles_mode_and_limits_the_plant(bench: Bench) -> None:
    bench.until(b"]> ")
    bench.type(f"login {OPERATOR_PIN}")
    bench.type("mode charge")
    assert "accepted" in bench.type("power 3.5")
    assert "KW must be from 0 to 32" in bench.type("power -1")
    assert "KW must be a number" in bench.type("power lots")
    bench.run_until(lambda: bench.charger.state is State.ENERGISED_CHARGE, 60.0)
    bench.run(5.0)
    status = bench.request("status")["data"]
    assert status["request"] == "charge" and status["power_limit_w"] == 3500.0
    assert bench.charger.world.inverter.ac_power_w == pytest.approx(3500.0, abs=200.0)
    assert "accepted" in bench.type("stop")
    bench.run_until(lambda: bench.charger.state is State.IDLE
                    or bench.charger.state is State.EV_CONNECTED, 30.0)


def test_contactor_test_from_service_mode_operates_one_contactor(bench: Bench) -> None:
    bench.until(b"]> ")
    bench.type(f"login {TECHNICIAN_PIN}")
    assert "needs service mode" in bench.type("contactor test ac")
    assert "service mode on" in bench.type("service on")
    bench.run_until(lambda: bench.charger.state is State.EV_CONNECTED, 10.0)
    refused = bench.type("contactor test dc")
    assert "refused" in refused and "EV unplugged" in refused  # never onto an EV unprepared
    answer = bench.type("contactor test ac")
    assert "closed for 1 s with everything else open" in answer
    world = bench.charger.world
    bench.run_until(lambda: bench.charger.state is State.SERVICE_TEST, 1.0)
    bench.run(0.5)
    assert world.contactor_closed("ac") and not world.contactor_closed("dc")
    assert world.inverter.mode_name == "off"
    bench.run_until(lambda: bench.charger.state is State.EV_CONNECTED, 3.0)
    assert not world.contactor_closed("ac")
    moved = [(e.details["name"], e.details["closed"]) for e in world.truth.of_kind("contactor")]
    assert moved == [("ac", True), ("ac", False)]  # nothing else moved
    assert "contactor test of ac done: aux followed within" in bench.type("log 5")
    assert not bench.charger.sup.status().faults
