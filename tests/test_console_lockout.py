"""Issue 15.6: PIN brute force. Failures count per role and per port, persist in the state
store's SQLite database, and a different role's success never resets them; the lock-out stays
bounded, malformed PINs do not count, and PINs of 6 and more digits are accepted."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.cli.main import main
from controller.console.pin_hash import parse_pin_hash, verify_pin
from tests.test_console_bench import OPERATOR_PIN, PORT, TECHNICIAN_PIN, Bench

OTHER = "/dev/ttyUSB0"
LOCKOUT = {"max_failures": 3, "lockout_s": 30.0, "lockout_max_s": 120.0}
SHORT_LOCKOUT = {"max_failures": 3, "lockout_s": 3.0, "lockout_max_s": 12.0}
# How far the wall clock jumps back at the restart: past lockout_max_s plus the lock-out, so an
# uncut lock-out would show even if it were only capped at lockout_max_s.
JUMP_S = 160.0


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(console=LOCKOUT, hal={"serial": {"ports": [PORT, OTHER]}})
    b.until(b"]> ")
    yield b
    b.close()


def test_an_operator_login_between_guesses_does_not_reset_the_technician_count(
        bench: Bench) -> None:
    # the attack of the issue: two wrong PINs, one correct operator login, repeat
    assert "2 attempts left" in bench.type("login 9999")
    assert "1 attempts left" in bench.type("login 9998")
    assert "logged in as operator" in bench.type(f"login {OPERATOR_PIN}")
    bench.type("logout")
    answer = bench.type("login 9997")
    assert "technician logins on this port locked out for 30 s" in answer
    # the right technician PIN is not even checked while its role is locked out
    refused = bench.type(f"login {TECHNICIAN_PIN}")
    assert "logged in" not in refused and "technician logins on this port are locked out" \
        in refused
    assert "logged in as operator" in bench.type(f"login {OPERATOR_PIN}")  # not locked
    bench.type("logout")
    bench.run(30.0)
    assert "logged in as technician" in bench.type(f"login {TECHNICIAN_PIN}")
    outcomes = [e.outcome for e in bench.audit.entries()]
    assert "wrong PIN; technician locked out for 30 s" in outcomes


def test_guessing_on_one_port_does_not_lock_out_another(bench: Bench) -> None:
    for pin in ("9999", "9998"):
        bench.type(f"login {pin}")
    assert "locked out for 30 s" in bench.type("login 9997")
    assert "logged in as technician" in bench.type_on(OTHER, f"login {TECHNICIAN_PIN}")
    assert "locked out" in bench.type(f"login {TECHNICIAN_PIN}")


def test_the_lock_out_survives_a_restart_and_stays_bounded(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    first = Bench(console=LOCKOUT, store_path=db)
    first.until(b"]> ")
    first.run(JUMP_S)  # the lock-out starts late in the first run's (virtual) wall time
    for pin in ("9999", "9998"):
        first.type(f"login {pin}")
    assert "locked out for 30 s" in first.type("login 9997")
    first.close()

    second = Bench(console=LOCKOUT, store_path=db)  # the clock starts again: wall time "jumped
    second.until(b"]> ")  # back" by JUMP_S, yet the lock-out lasts at most its own 30 s
    assert "locked out for 30 s more" in second.type(f"login {TECHNICIAN_PIN}")
    second.run(29.0)
    assert "locked out for 1 s more" in second.type(f"login {TECHNICIAN_PIN}")
    second.run(1.0)
    for pin in ("9999", "9998"):
        second.type(f"login {pin}")
    assert "locked out for 60 s" in second.type("login 9997")  # the back-off was kept
    from controller.store.login_failures import LoginFailures  # new with the fix

    row = LoginFailures(second.charger.store.connection).get(PORT, "technician")
    assert row.lockouts == 2 and row.failures == 0
    second.close()


def test_the_back_off_is_capped_so_a_technician_always_gets_in_again() -> None:
    bench = Bench(console=SHORT_LOCKOUT)  # the same back-off, a tenth as long to wait out
    try:
        bench.until(b"]> ")
        seen = []
        for _ in range(4):
            for pin in ("9999", "9998"):
                bench.type(f"login {pin}")
            seconds = bench.type("login 9997").split("locked out for ")[1].split(" s")[0]
            seen.append(seconds)
            bench.run(float(seconds))
        assert seen == ["3", "6", "12", "12"]
        assert "logged in as technician" in bench.type(f"login {TECHNICIAN_PIN}")
    finally:
        bench.close()


def test_malformed_pins_are_refused_without_counting(bench: Bench) -> None:
    for pin in ("abc", "12ab", "12", "1" * 13):
        answer = bench.type(f"login {pin}")
        assert "refused: not a PIN" in answer and "attempts left" not in answer
    assert "not a PIN" in bench.type("login", until=b"PIN: ") + bench.type("x1")
    assert "2 attempts left" in bench.type("login 9999")
    assert not any("locked out" in e.outcome for e in bench.audit.entries())


def test_hash_pin_takes_six_to_twelve_digits_and_recommends_six(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for pin in ("482916", "48291637", "482916374512"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(pin + "\n"))
        assert main(["console", "hash-pin", "--stdin", "--cost", "16"]) == 0
        out = capsys.readouterr()
        assert verify_pin(pin, parse_pin_hash(out.out.strip())) and "recommended" not in out.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("4829\n"))
    assert main(["console", "hash-pin", "--stdin", "--cost", "16"]) == 0
    assert "6 or more digits are recommended" in capsys.readouterr().err
