"""The console's pieces on their own: line editor, framing, command names, PIN hashes, CLI."""

from __future__ import annotations

import io
import sqlite3
import sys

import pytest

from controller.cli.main import main
from controller.console.commands import resolve
from controller.console.framing import FrameError, frame, parse_request
from controller.console.line_editor import Kind, LineEditor
from controller.console.lockout import Lockout
from controller.console.pin_hash import parse_pin_hash, verify_pin
from controller.console.roles import Role
from controller.console.transport import RETRY_S, PortChannel
from controller.store.login_failures import LoginFailures
from hal.errors import HalIOError


def test_editor_echoes_erases_cancels_and_ends_lines_on_cr_lf_or_crlf() -> None:
    editor = LineEditor(16)
    events, echo = editor.feed(b"stx\x7fatus\r\nlog\n\x03mode\x03")
    assert [(e.kind, e.text) for e in events] == [
        (Kind.LINE, "status"), (Kind.LINE, "log"), (Kind.CANCEL, ""), (Kind.CANCEL, "")]
    assert echo.startswith(b"stx\b \batus\r\nlog\r\n^C\r\nmode^C\r\n")


def test_editor_swallows_escape_sequences_and_drops_bad_lines_within_its_bound() -> None:
    editor = LineEditor(16)
    events, echo = editor.feed(b"\x1b[A\x1b[2J\x1b]0;x\x07st\x1bOBatus\r")
    assert [e.text for e in events] == ["status"]
    events, echo = editor.feed(b"\x1bPq#0;2;0;0;0\x1b\\ok\r")  # DCS ... ESC \\
    assert [e.text for e in events] == ["ok"] and echo == b"ok\r\n"
    events, _ = editor.feed(b"\x1b[" + b"9" * 200 + b"m\r")  # endless: garbage, still bounded
    assert [e.kind for e in events] == [Kind.ERROR]
    assert b"\x1b" not in echo
    events, _ = editor.feed(b"A" * 100 + b"\r" + b"sta\xff\xfetus\r")
    assert [e.kind for e in events] == [Kind.ERROR, Kind.ERROR]
    assert "longer than 16 bytes" in events[0].text and "not printable ASCII" in events[1].text
    assert not editor.pending


def test_machine_lines_are_not_echoed_and_pins_echo_nothing() -> None:
    editor = LineEditor(64)
    events, echo = editor.feed(frame("status :1").encode() + b"\r\n")
    assert echo == b"" and events[0].machine
    editor.secret = True
    _, echo = editor.feed(b"24\x1b[A\t68")  # not even its length; no recall, no completion
    assert echo == b""


def test_frames_need_a_correct_checksum_and_echo_the_sequence_id() -> None:
    request = parse_request(frame("mode charge :A7"))
    assert request.words == ["mode", "charge"] and request.seq == "A7"
    with pytest.raises(FrameError, match="checksum mismatch") as err:
        parse_request("$mode charge :A7*0000")
    assert err.value.seq == "A7"
    with pytest.raises(FrameError, match="checksum missing"):
        parse_request("$status")
    with pytest.raises(FrameError, match="four hex digits"):
        parse_request("$status*XYZ")


def test_unique_prefixes_resolve_and_ambiguous_ones_are_refused() -> None:
    found = resolve(["sta"])
    assert not isinstance(found, str) and found[0].name == "status"
    assert resolve(["st"]) == "command 'st' is ambiguous: status, stop"
    assert "ambiguous: config, contactor" in str(resolve(["con", "s"]))
    found = resolve(["conf", "s", "console.lockout_s", "60"])
    assert not isinstance(found, str) and found[0].name == "config set"
    assert found[1] == ["console.lockout_s", "60"]
    assert resolve(["config"]) == "config: needs one of get, set"
    assert resolve(["mode"]) == ("mode: missing argument idle|charge|v2h|v2g|v2l (usage: mode "
                                 "idle|charge|v2h|v2g|v2l)")
    assert "unknown command" in str(resolve(["rm", "-rf"]))


def test_lockout_backs_off_and_a_success_resets_it() -> None:
    lock = Lockout(LoginFailures(sqlite3.connect(":memory:")), max_failures=2, lockout_s=10.0,
                   lockout_max_s=25.0)
    tech, oper = Role.TECHNICIAN, Role.OPERATOR
    assert lock.failure("a", tech, 0.0) == 0.0 and lock.failure("a", tech, 0.0) == 10.0
    assert lock.remaining("a", tech, 5.0) == 5.0
    assert lock.remaining("b", tech, 5.0) == 0.0 and lock.remaining("a", oper, 5.0) == 0.0
    assert lock.failure("a", tech, 11.0) == 0.0 and lock.failure("a", tech, 11.0) == 20.0
    assert lock.failure("a", tech, 40.0) == 0.0
    assert lock.failure("a", tech, 40.0) == 25.0  # capped
    lock.success("a", oper)  # another role's success changes nothing
    assert lock.remaining("a", tech, 50.0) == 15.0
    assert lock.remaining("a", tech, 50.0 - 3600.0) == 25.0  # the clock went back: bounded
    assert lock.remaining("a", tech, 50.0 - 3600.0 + 25.0) == 0.0
    assert lock.failure("a", tech, 0.0) == 0.0 and lock.failure("a", tech, 0.0) == 25.0
    lock.success("a", tech)
    assert lock.remaining("a", tech, 1.0) == 0.0 and lock.failure("a", tech, 1.0) == 0.0


def test_hash_pin_command_prints_a_verifiable_hash(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("482916\n"))
    assert main(["console", "hash-pin", "--stdin", "--cost", "16"]) == 0
    stored = parse_pin_hash(capsys.readouterr().out.strip())
    assert stored.n == 16 and verify_pin("482916", stored) and not verify_pin("482917", stored)
    monkeypatch.setattr(sys, "stdin", io.StringIO("12ab\n"))
    assert main(["console", "hash-pin", "--stdin", "--cost", "16"]) == 2
    assert "PIN refused: a PIN is digits only" in capsys.readouterr().err


class _UnpluggedPort:
    """A port whose cable was pulled: every read and write fails as pyserial's would."""

    name = "/dev/ttyUSB9"

    def __init__(self) -> None:
        self.calls = 0

    def read(self, max_bytes: int) -> bytes:
        self.calls += 1
        raise HalIOError(f"serial port {self.name}: read failed: [Errno 5] Input/output error")

    def write(self, data: bytes) -> int:
        self.calls += 1
        raise HalIOError(f"serial port {self.name}: write failed: [Errno 5] Input/output error")

    def close(self) -> None:
        pass


def test_a_failed_port_is_logged_once_skipped_and_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    port = _UnpluggedPort()
    channel = PortChannel(port.name, port, read_budget=64, limit=1024)
    channel.send(b"hello")
    for tick in range(100):  # 2 s at 20 ms
        now = tick * 0.02
        assert channel.read(now) == b""
        channel.flush(now)
    assert port.calls == 1  # skipped until RETRY_S
    assert channel.read(RETRY_S) == b"" and port.calls == 2
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    assert channel.queued <= channel.limit
