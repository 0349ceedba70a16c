"""Must-show 3: lock-out with back-off (audited), roles enforced with a reason, hashes secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from controller.config.loader import parse_config
from controller.console.commands import REGISTRY
from controller.console.pin_hash import hash_pin, parse_pin_hash
from controller.console.roles import Role
from controller.dispatch.arbitration import Source
from hal.errors import ConfigError
from tests.test_console_bench import OPERATOR_PIN, PORT, TECHNICIAN_PIN, Bench

WRONG = "9999"


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(console={"max_failures": 3, "lockout_s": 30.0, "session_timeout_s": 60.0})
    b.until(b"]> ")
    yield b
    b.close()


def test_wrong_pins_lock_out_with_back_off_and_are_audited(bench: Bench) -> None:
    assert "2 attempts left" in bench.type(f"login {WRONG}")
    assert "1 attempts left" in bench.type(f"login {WRONG}")
    assert "logins on this port locked out for 30 s" in bench.type(f"login {WRONG}")
    assert "logins on this port are locked out for" in bench.type(f"login {TECHNICIAN_PIN}")
    bench.run(30.0)
    for _ in range(2):
        bench.type(f"login {WRONG}")
    assert "logins on this port locked out for 60 s" in bench.type(f"login {WRONG}")  # doubled
    bench.run(59.0)
    assert "logins on this port are locked out" in bench.type(f"login {TECHNICIAN_PIN}")
    bench.run(1.0)
    assert "logged in as technician" in bench.type(f"login {TECHNICIAN_PIN}")
    lockout = bench.console.logins.lockout
    assert lockout.attempts_left(PORT, Role.TECHNICIAN) == 3  # a success ends the back-off
    outcomes = [(e.command, e.outcome) for e in bench.audit.entries()]
    both = "operator locked out for {0} s; technician locked out for {0} s"
    assert ("login", "wrong PIN; " + both.format(30)) in outcomes
    assert ("login", "wrong PIN; " + both.format(60)) in outcomes
    assert ("login", "ok") in outcomes
    assert all(e.port == "/dev/ttyGS0" for e in bench.audit.entries())


def test_privileged_commands_are_refused_for_lower_roles_with_a_reason(bench: Bench) -> None:
    for cmd in REGISTRY:
        if cmd.role is Role.VIEWER:
            continue
        line = cmd.example
        answer = bench.type(line)
        assert f"needs the {cmd.role.label} role (this session is viewer)" in answer, line
    assert "logged in as operator" in bench.type(f"login {OPERATOR_PIN}")
    assert "needs the technician role (this session is operator)" in bench.type("reset")
    assert "needs the technician role" in bench.type("service on")
    assert not bench.charger.sup.arbiter.claims  # nothing was claimed by a refused command
    refused = [e for e in bench.audit.entries() if e.outcome.startswith("refused")]
    assert {e.role for e in refused} == {"viewer", "operator"}
    assert len(refused) == sum(1 for c in REGISTRY if c.role > Role.VIEWER) + 2


def test_session_times_out_and_service_mode_reverts(bench: Bench) -> None:
    bench.type(f"login {TECHNICIAN_PIN}")
    assert "service mode on" in bench.type("service on")
    assert "technician service]> " in bench.type("whoami")
    assert "held idle" not in bench.type("contactor test ac")
    assert Source.TECHNICIAN in bench.charger.sup.arbiter.claims
    bench.run(61.0)
    text = bench.until(b"]> ").decode()
    assert "timeout: technician session ended; service mode ended" in text
    assert "viewer]> " in text
    assert Source.TECHNICIAN not in bench.charger.sup.arbiter.claims
    assert "needs the technician role" in bench.type("service on")


def test_the_pin_hash_never_appears_in_output_logs_or_audit(
        bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = []
    for text in (bench.charger.config.console.technician_pin_hash,
                 bench.charger.config.console.operator_pin_hash):
        stored = parse_pin_hash(text)
        secrets += [text, stored.salt.hex(), stored.key.hex()]
    seen = bench.type(f"login {TECHNICIAN_PIN}")
    seen += bench.type("config get console")
    seen += bench.type("config get console.technician_pin_hash")
    # framed, so the terminal does not echo what is typed: only the console's answer counts
    seen += str(bench.request(f"config set console.technician_pin_hash {secrets[0]}"))
    seen += bench.type("login", until=b"PIN: ") + bench.type(TECHNICIAN_PIN)
    seen += str(bench.request("config get console :1"))
    seen += bench.type("log 200") + bench.type("help config get")
    assert "<redacted>" in seen and "set in the config file only" in seen
    records = "\n".join(r.getMessage() for r in caplog.records)
    audit = "\n".join(str(e) for e in bench.audit.entries())
    events = "\n".join(e.text for e in bench.charger.store.events(1000))
    for secret in secrets:
        for where, text in (("terminal", seen), ("log", records), ("audit", audit),
                            ("events", events), ("config repr", repr(bench.charger.config))):
            assert secret not in text, f"a PIN hash part appears in the {where}"
    assert TECHNICIAN_PIN not in audit


def test_config_refuses_malformed_and_too_cheap_hashes_without_quoting_them() -> None:
    cheap = hash_pin("4321", n=16, r=1)
    with pytest.raises(ConfigError) as err:
        parse_config({"console": {"technician_pin_hash": cheap,
                                  "operator_pin_hash": "scrypt:nonsense"}})
    text = "\n".join(err.value.problems)
    assert "console.technician_pin_hash: scrypt N = 16 is below console.min_scrypt_n" in text
    assert "console.operator_pin_hash: not a PIN hash" in text
    assert cheap not in text and "nonsense" not in text
