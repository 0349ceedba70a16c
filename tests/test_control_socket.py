"""The control socket (controller/control_socket/), driven tick by tick on the virtual clock.

The production supervisor on the simulator serves the socket from ``on_tick``; a raw client
sends framed (and malformed) requests and reads the JSON replies.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from socket_client import RawClient, ask, serve

from controller.console.framing import frame
from controller.control_socket.server import LINES_PER_TICK, ControlSocketServer
from controller.dispatch.arbitration import Source
from controller.modes.states import State
from hal.errors import HalSetupError
from harness import Charger

Setup = tuple[Charger, ControlSocketServer, str]


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="v2x-cs-"))  # short: AF_UNIX paths are <= 107 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def served(make_charger: Callable[..., Charger], socket_dir: Path) -> Iterator[Setup]:
    path = str(socket_dir / "control.sock")
    charger = make_charger({"control_socket": {"path": path, "max_lease_s": 60.0}})
    server = ControlSocketServer(charger.sup)
    yield charger, server, path
    server.close()


def test_status_over_the_socket_is_the_consoles_json_with_the_sequence_id(
        served: Setup) -> None:
    charger, server, path = served
    serve(charger, server, 1.0)
    client = RawClient(path)
    reply = ask(charger, server, client, "status :A7")
    assert reply["ok"] is True and reply["cmd"] == "status" and reply["seq"] == "A7"
    assert reply["data"]["state"] == charger.sup.modes.state
    assert reply["data"]["grid_voltage_v"] == pytest.approx(240.0, abs=5.0)
    who = ask(charger, server, client, "whoami :1")
    assert who["data"]["role"] == "operator" and who["data"]["port"].startswith("socket:")


def test_malformed_lines_are_refused_with_a_reason_and_the_connection_goes_on(
        served: Setup) -> None:
    charger, server, path = served
    client = RawClient(path)
    client.send(b"status\n")  # not framed
    client.send(b"$status*0000\n")  # wrong checksum
    client.send(b"$" + b"x" * 5000 + b"\n")  # longer than max_line_bytes
    client.send(b"\xff\xfe\x00garbage\r\n")
    serve(charger, server, 0.2)
    replies = client.lines()
    assert len(replies) == 4 and not any(r["ok"] for r in replies)
    texts = " | ".join(r["error"] for r in replies)
    assert "framed requests only" in texts and "checksum mismatch" in texts
    assert "longer than 1024 bytes" in texts
    assert ask(charger, server, client, "version")["data"]["socket_protocol"] == 1


@pytest.mark.parametrize("body", ["reset", "config set limits.max_charge_power_w 1",
                                  "service on", "mode charge", "login 1234",
                                  "contactor test ac", "calibrate list"])
def test_no_technician_or_console_only_command_exists_on_the_socket(
        served: Setup, body: str) -> None:
    charger, server, path = served
    reply = ask(charger, server, RawClient(path), body)
    assert reply["ok"] is False and "unknown command" in reply["error"]


@pytest.mark.parametrize(("body", "why"), [
    ("claim technician charge - 10", "must be one of schedule, grid_operator"),
    ("claim user charge - 10", "must be one of schedule, grid_operator"),
    ("claim safety idle - 10", "must be one of schedule, grid_operator"),
    ("claim schedule charge - 0", "more than 0 s"),
    ("claim schedule charge - 61", "must be from 0 to 60 s"),
    ("claim schedule charge - nan", "finite"),
    ("claim schedule charge - inf", "finite"),
    ("claim schedule charge nan 10", "finite"),
    ("claim schedule charge -5 10", "must be from 0 to 32000 W"),
    ("claim schedule charge 1e400 10", "finite"),
    ("claim schedule boost - 10", "must be one of idle, charge"),
    ("claim schedule - - 10", "neither a mode nor a power limit"),
    ("claim schedule charge 10", "wrong number of arguments"),
])
def test_a_bad_claim_is_refused_with_its_reason_and_changes_nothing(
        served: Setup, body: str, why: str) -> None:
    charger, server, path = served
    client = RawClient(path)
    assert ask(charger, server, client, "claim grid_operator - 3000 30")["ok"]
    before = dict(charger.sup.arbiter.claims)
    reply = ask(charger, server, client, body)
    assert reply["ok"] is False and why in reply["error"], reply["error"]
    assert charger.sup.arbiter.claims == before


def test_a_claim_is_leased_renewed_by_repeating_it_and_released(served: Setup) -> None:
    charger, server, path = served
    client = RawClient(path)
    reply = ask(charger, server, client, "claim schedule charge 5000 4")
    assert reply["ok"] and reply["data"]["expires_at"] == pytest.approx(charger.now + 4.0,
                                                                        abs=0.05)
    for _ in range(3):  # renewed every 2 s: held for 6 s, past its 4 s lease
        serve(charger, server, 2.0)
        assert ask(charger, server, client, "claim schedule charge 5000 4")["ok"]
    assert charger.sup.resolution.mode_source == "schedule"
    claims = ask(charger, server, client, "claims")["data"]["claims"]
    assert [c["requester"] for c in claims] == ["schedule"]
    released = ask(charger, server, client, "release schedule")
    assert released["ok"] and Source.SCHEDULE not in charger.sup.arbiter.claims
    assert not ask(charger, server, client, "release schedule")["ok"]


def test_a_dead_client_releases_nothing_its_lease_does(served: Setup) -> None:
    charger, server, path = served
    charger.request("charge")  # the owner's standing wish
    client = RawClient(path)
    assert ask(charger, server, client, "claim schedule idle - 3")["ok"]
    claimed_at = charger.now
    client.close()  # the gateway died: its claim stays until the lease ends
    serve(charger, server, 1.0)
    assert charger.sup.resolution.mode_source == "schedule"
    serve(charger, server, 2.1)
    expiry = [r for r in charger.sup.request_log if r.kind == "expiry"][-1]
    assert expiry.source == "schedule" and expiry.t <= claimed_at + 3.0 + 1e-6
    assert charger.sup.resolution.mode_source == "user"


def test_events_stream_state_transitions_and_claims(served: Setup) -> None:
    charger, server, path = served
    client = RawClient(path)
    assert ask(charger, server, client, "events on")["ok"]
    ask(charger, server, client, "claim schedule charge - 30")
    serve(charger, server, 15.0)
    assert charger.state is State.ENERGISED_CHARGE
    events = [e for e in client.lines() if "event" in e]
    kinds = {e["event"] for e in events}
    assert {"state", "transition", "request"} <= kinds
    assert any(e["event"] == "request" and e["requester"] == "schedule" and e["accepted"]
               for e in events)
    assert any(e["event"] == "transition" and e["dest"] == "energised_charge" for e in events)
    assert events[-1]["event"] == "state" or any(
        e["event"] == "state" and e["state"] == "energised_charge" for e in events)


def test_clients_beyond_max_clients_are_told_and_closed(
        make_charger: Callable[..., Charger], socket_dir: Path) -> None:
    path = str(socket_dir / "c.sock")
    charger = make_charger({"control_socket": {"path": path, "max_clients": 2}})
    server = ControlSocketServer(charger.sup)
    clients = [RawClient(path) for _ in range(3)]
    serve(charger, server, 0.1)
    third = clients[2].lines()
    assert clients[2].closed and "2 clients are connected already" in third[0]["error"]
    assert ask(charger, server, clients[0], "status")["ok"]
    server.close()


def test_a_client_that_does_not_read_is_disconnected_not_waited_for(
        make_charger: Callable[..., Charger], socket_dir: Path) -> None:
    path = str(socket_dir / "c.sock")
    charger = make_charger({"control_socket": {"path": path, "output_buffer_bytes": 4096}})
    server = ControlSocketServer(charger.sup)
    client = RawClient(path)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.send(b"".join(frame("status").encode() + b"\n" for _ in range(600)))
    ticks_before = charger.sup.ticks
    serve(charger, server, 10.0)
    assert charger.sup.ticks - ticks_before == round(10.0 / charger.config.control.tick_s)
    assert not server.clients  # cut off, the loop never waited for it
    other = RawClient(path)
    assert ask(charger, server, other, "status")["ok"]
    server.close()


def test_the_socket_file_is_0660_and_a_stale_one_is_replaced(
        make_charger: Callable[..., Charger], socket_dir: Path) -> None:
    path = str(socket_dir / "c.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # left behind by a controller that was killed
    stale.close()
    charger = make_charger({"control_socket": {"path": path}})
    server = ControlSocketServer(charger.sup)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    assert ask(charger, server, RawClient(path), "status")["ok"]
    server.close()
    assert not os.path.exists(path)


def test_a_file_that_is_not_a_socket_is_never_replaced(
        make_charger: Callable[..., Charger], socket_dir: Path) -> None:
    path = socket_dir / "c.sock"
    path.write_text("keep me")
    charger = make_charger({"control_socket": {"path": str(path)}})
    with pytest.raises(HalSetupError, match="exists and is not a socket"):
        ControlSocketServer(charger.sup)
    assert path.read_text() == "keep me"


def test_requests_per_tick_are_bounded(served: Setup) -> None:
    charger, server, path = served
    client = RawClient(path)
    client.send(b"".join(frame("version").encode() + b"\n" for _ in range(40)))
    serve(charger, server, charger.config.control.tick_s)
    assert len(client.lines()) == LINES_PER_TICK
    serve(charger, server, 10 * charger.config.control.tick_s)
    assert len(client.lines()) == 40 - LINES_PER_TICK


def test_a_socket_another_controller_serves_is_never_taken_over(
        served: Setup, make_charger: Callable[..., Charger]) -> None:
    _, first, path = served
    second = make_charger({"control_socket": {"path": path}})
    with pytest.raises(HalSetupError, match="another process"):
        ControlSocketServer(second.sup)
    assert os.path.exists(path)  # the first one's socket is still there
    assert first.clients == []


def test_the_built_in_simulator_picks_a_free_socket_path(socket_dir: Path) -> None:
    from controller.control_socket.serve import claim_simulator_socket

    first = claim_simulator_socket(str(socket_dir))
    assert first.path == str(socket_dir / "control.sock")
    own = str(socket_dir / f"control-{os.getpid()}.sock")
    second = claim_simulator_socket(str(socket_dir))  # another simulator holds control.sock
    assert second.path == own
    second.release()
    first.release()
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(first.path)
    live.listen(1)  # served by a process that takes no lock (an older controller)
    try:
        third = claim_simulator_socket(str(socket_dir))
        assert third.path == own
        third.release()
    finally:
        live.close()
    again = claim_simulator_socket(str(socket_dir))  # stale again: reused
    assert again.path == first.path
    again.release()


def test_renewals_are_quiet_the_first_claim_and_the_expiry_are_recorded(
        served: Setup) -> None:
    charger, server, path = served
    client = RawClient(path)
    assert ask(charger, server, client, "claim schedule charge 5000 4")["ok"]
    logged = len(charger.sup.request_log)
    stored = len(charger.store.events(limit=10_000))
    for _ in range(5):  # renewed every 2 s for 10 s: the event log does not grow by renewals
        serve(charger, server, 2.0)
        reply = ask(charger, server, client, "claim schedule charge 5000 4")
        assert reply["ok"] and "renewed" in reply["text"]
    assert charger.sup.resolution.mode_source == "schedule"
    kinds = [r.kind for r in charger.sup.request_log[logged:]]
    assert "claim" not in kinds and "expiry" not in kinds
    renewed_at = charger.now
    serve(charger, server, 4.1)
    expiry = [r for r in charger.sup.request_log if r.kind == "expiry"][-1]
    assert expiry.source == "schedule" and expiry.t <= renewed_at + 4.0 + 1e-6
    requests = [e for e in charger.store.events(limit=10_000)[stored:] if e.kind == "request"]
    assert len(requests) <= 2, [e.text for e in requests]  # the expiry, not 5 renewals
    # a changed claim is a new claim, recorded as such
    assert "renewed" not in ask(charger, server, client, "claim schedule charge 4000 4")["text"]
