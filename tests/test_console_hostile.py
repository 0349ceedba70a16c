"""Issue 15.2 (console part): hostile numbers in console arguments are refused with a specific
error and change nothing (``config set console.lockout_s nan`` was applied live)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.console.framing import FrameError, crc16, frame, parse_request
from tests.test_console_bench import TECHNICIAN_PIN, Bench

NON_FINITE = ["nan", "inf", "-inf", "+nan", "1e400", "-1e999"]


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    b = Bench(console={"max_failures": 3, "lockout_s": 30.0})
    b.until(b"]> ")
    b.type(f"login {TECHNICIAN_PIN}")
    yield b
    b.close()


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("key", ["console.lockout_s", "console.watch_interval_s",
                                 "limits.max_charge_power_w", "console.max_failures"])
def test_config_set_refuses_non_finite_numbers(bench: Bench, key: str, value: str) -> None:
    before = bench.console.settings
    reply = bench.request(f"config set {key} {value}")
    assert not reply["ok"], reply
    assert f"{key} = {value}: not a finite number" in reply["error"], reply
    assert bench.console.settings == before  # nothing applied


@pytest.mark.parametrize("value", ["[1.0, nan]", "{a = inf}"])
def test_config_set_refuses_non_finite_numbers_inside_values(bench: Bench, value: str) -> None:
    reply = bench.request(f"config set console.lockout_s {value}")
    assert not reply["ok"] and "not a finite number" in reply["error"], reply


@pytest.mark.parametrize("value, why", [("1e30", "out of range"), ("-5", "out of range"),
                                         ("100000000000000000000000", "out of range")])
def test_config_set_refuses_huge_and_negative_numbers(bench: Bench, value: str, why: str) -> None:
    reply = bench.request(f"config set console.lockout_s {value}")
    assert not reply["ok"] and why in reply["error"], reply
    assert bench.console.settings.lockout_s == 30.0


def test_a_nan_lockout_never_reaches_the_lockout(bench: Bench) -> None:
    bench.request("config set console.lockout_s nan")
    assert bench.console.logins.lockout.lockout_s == 30.0


@pytest.mark.parametrize("value", [*NON_FINITE, "1e30", "-1", "-0.5", "33"])
def test_power_refuses_hostile_numbers_and_claims_nothing(bench: Bench, value: str) -> None:
    reply = bench.request(f"power {value}")
    assert not reply["ok"], reply
    if value in NON_FINITE:
        assert f"power {value}: KW must be a finite number" in reply["error"]
    else:
        assert "KW must be from 0 to 32" in reply["error"]
    assert not bench.charger.sup.arbiter.claims


@pytest.mark.parametrize("value", [*NON_FINITE, "1e30", "-1e30"])
def test_calibration_refuses_hostile_references(bench: Bench, value: str) -> None:
    reply = bench.request(f"calibrate meter.voltage {value}")
    assert not reply["ok"], reply
    assert "REFERENCE must be a finite number" in reply["error"] or \
        "REFERENCE must be from" in reply["error"]
    assert not any(s.cal_points for s in bench.console.sessions.values())


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e3", "201",
                                   "99999999999999999999999999", "0x10"])
def test_log_refuses_hostile_counts(bench: Bench, value: str) -> None:
    reply = bench.request(f"log {value}")
    assert not reply["ok"] and "N must be a whole number from 1 to 200" in reply["error"]


@pytest.mark.parametrize("seq", [":!!", ":123456789", ":", ":-1", ":1.5", ":a_b"])
def test_a_bad_sequence_id_is_named_in_the_error(bench: Bench, seq: str) -> None:
    body = f"status {seq}"
    with pytest.raises(FrameError, match=r"sequence id .* must be 1 to 8 letters or digits"):
        parse_request(frame(body))
    bench.send(f"${body}*{crc16(body):04X}\r\n".encode())
    reply = bench.reply()
    assert not reply["ok"] and "sequence id" in reply["error"], reply
