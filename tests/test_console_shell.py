"""Issue 17.4: a console that feels like one, each behaviour typed through the real pty:
banner, history, cursor editing, Tab completion, ``?`` help, ``help CMD``, a hidden PIN, the
right errors in machine mode, and a note when ``mode`` drops an earlier ``power`` limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_console_bench import OPERATOR_PIN, TECHNICIAN_PIN, Bench

UP, DOWN, RIGHT, LEFT = b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D"
HOME, END, DELETE = b"\x1b[H", b"\x1b[F", b"\x1b[3~"


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    b.until(b"]> ")
    yield b
    b.close()


def keys(bench: Bench, data: bytes, until: bytes = b"]> ") -> str:
    bench.send(data)
    return bench.until(until).decode("ascii", "replace")


def test_enter_on_a_fresh_session_shows_the_banner(bench: Bench) -> None:
    assert "technician console" in keys(bench, b"\r")  # someone attached after start-up
    assert "technician console" not in keys(bench, b"\r")  # once


def test_up_down_recall_history_and_left_right_edit_the_line(bench: Bench) -> None:
    bench.type("status")
    bench.type("whoami")
    assert "state      " in keys(bench, UP + UP + b"\r")  # status again
    assert "viewer on" in keys(bench, UP * 3 + DOWN + b"\r")  # status, whoami, status: back 1
    assert "viewer on" in keys(bench, b"whami" + LEFT * 3 + b"o\r")  # inserted mid-line
    assert "viewer on" in keys(bench, b"xwhoami" + HOME + DELETE + b"\r")
    assert "viewer on" in keys(bench, b"whoam" + LEFT * 5 + RIGHT * 5 + b"i" + END + b"\r")
    assert "viewer on" in keys(bench, b"whoamix\x7f" + LEFT + RIGHT + b"\r")
    bench.type(f"login {OPERATOR_PIN}")  # never kept: the next person could recall it
    recalled = keys(bench, UP, until=b"whoami")
    assert OPERATOR_PIN not in recalled
    assert "operator on" in keys(bench, b"\r")
    bench.type("logout")  # a session's end forgets its history
    assert "whoami" not in keys(bench, UP + UP + b"\r")


def test_tab_completes_commands_subcommands_and_choices(bench: Bench) -> None:
    assert "state      " in keys(bench, b"sta\t\r")
    listed = keys(bench, b"con\t", until=b"]> con")  # ambiguous: both listed, line kept
    assert "config" in listed and "contactor" in listed
    assert "config get: missing argument KEY" in keys(bench, b"f\tg\t\r")
    assert "state-change events on" in keys(bench, b"ev\ton\r")
    assert "console.lockout_max_s = 900.0" in keys(bench, b"conf\tg\tconsole.lockout_m\t\r")
    assert "mode idle|charge" not in keys(bench, b"mode ch\t\x03")  # no error on Tab
    listed = keys(bench, b"events o\t")
    assert "on" in listed and "off" in listed
    keys(bench, b"\x03")


def test_question_mark_explains_what_can_come_next(bench: Bench) -> None:
    everything = keys(bench, b"?")
    assert "calibrate" in everything and "whoami" in everything
    assert everything.endswith("]> ")  # nothing typed, nothing run
    shown = keys(bench, b"mo?", until=b"]> mo")  # the line is kept
    assert "mode idle|charge|v2h|v2g|v2l" in shown and "claim a mode" in shown
    assert "needs the operator role" in keys(bench, b"de charge\r")
    args = keys(bench, b"config ?")
    assert "config get KEY" in args and "config set KEY VALUE" in args


def test_help_for_a_command_gives_its_full_description_and_an_example(bench: Bench) -> None:
    text = bench.type("help power")
    assert "power KW" in text and "example: power 3.5" in text
    assert "replaces" in text and "mode" in text  # how claims replace each other
    assert "role operator" in text
    assert "service mode" in bench.type("help contactor test")


def test_the_pin_prompt_echoes_nothing(bench: Bench) -> None:
    assert bench.type("login", until=b"PIN: ").endswith("PIN: ")
    answer = bench.type(TECHNICIAN_PIN)
    assert answer.startswith("\r\nlogged in as technician"), answer
    assert "*" not in answer and TECHNICIAN_PIN not in answer


def test_machine_mode_names_a_missing_argument(bench: Bench) -> None:
    reply = bench.request("login :1")
    assert not reply["ok"] and reply["seq"] == "1"
    assert "login: PIN missing" in reply["error"]
    reply = bench.request("mode :2")
    assert reply["error"] == "mode: missing argument idle|charge|v2h|v2g|v2l (usage: mode " \
        "idle|charge|v2h|v2g|v2l)"
    assert "too many arguments" in bench.request("whoami now :3")["error"]
    assert "state      " in bench.type("status")  # not taken for a PIN


def test_mode_says_when_it_drops_an_earlier_power_limit(bench: Bench) -> None:
    bench.type(f"login {OPERATOR_PIN}")
    assert "accepted" in bench.type("mode charge")
    assert "accepted" in bench.type("power 3.5")
    reply = bench.request("mode v2h")
    assert reply["ok"] and reply["data"]["dropped_power_w"] == 3500.0
    assert "replaces this role's earlier claim" in reply["text"]
    assert "3.50 kW limit no longer applies" in reply["text"]
    assert bench.charger.sup.arbiter.claims  # the claim itself stands
    assert "no longer applies" not in bench.type("mode charge")  # nothing to drop now
