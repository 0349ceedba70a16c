"""Must-show 2: 10,000 hostile inputs on a real pty, the loop keeps its rate, nothing escapes.

One port gets the fuzz (random bytes, invalid UTF-8, overlong lines, control characters, escape
sequences, partial lines, mangled commands and frames, wrong PINs), one terminal never reads its
output while it keeps asking for more, and a third terminal must still be served afterwards.
The charger charges throughout and must still be charging, with no fault, at the end.

The fuzzed port has no terminal bridge (hal/sim/pty_ports.py): the test alone reads its pty's
master, so every byte the console wrote reaches the test (checked against the port's count).
Virtual time waits for the two real-time helpers, bounded: a PIN check on the worker thread and
the clean terminal's bridge.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import time
from typing import Any

import pytest

from controller.console.commands import REGISTRY
from controller.console.framing import crc16
from controller.modes.states import State
from hal.sim.backend import simulated
from tests.test_console_bench import DELIVERY_WAIT_S, PORT, Bench

SEED = 9
INPUTS = 10_000
FUZZ = "/dev/ttyUSB1"  # not PORT: Bench bridges PORT to its terminal, whose thread reads the
# master too and would take part of the output
DEAF = "/dev/ttyACM0"
CLEAN = "/dev/ttyUSB0"
WORDS = sorted({w for c in REGISTRY for w in c.name.split()} | {"on", "off", "charge", "v2g",
                                                                   "console.max_line_bytes"})


def _hostile(rng: random.Random) -> bytes:
    kind = rng.randrange(11)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 64))
    if kind == 1:  # invalid UTF-8 inside a command
        bad = rng.choice([b"\xc3\x28", b"\xff\xfe", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
        return b"sta" + bad + b"tus\r"
    if kind == 2:  # overlong line
        return rng.choice([b"A", b"$", b"help "]) * rng.randint(200, 1200) + b"\r\n"
    if kind == 3:  # control characters
        return bytes(rng.choice([*range(0, 32), 127]) for _ in range(rng.randint(1, 12)))
    if kind == 4:  # escape sequences, complete, broken or endless
        return rng.choice([b"\x1b[A", b"\x1b[2J\x1b[H", b"\x1b]0;pwned\x07", b"\x1b[" + b"9" * 40,
                           b"\x1bP" + rng.randbytes(8), b"\x1b[6n", b"\x1bc"]) + b"status\r"
    if kind == 5:  # a partial line (finished, or not, by a later input)
        return rng.choice(WORDS).encode()[: rng.randint(1, 5)]
    if kind == 6:  # words and arguments in random order
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 20))]
        return " ".join(words).encode() + rng.choice([b"\r", b"\n", b"\r\n", b"\x03"])
    if kind == 7:  # framed requests, valid or mangled
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        body += rng.choice(["", f" :{rng.randint(1, 99)}", " :!!", ":"])
        crc = f"{crc16(body):04X}" if rng.random() < 0.5 else rng.choice(["ZZZZ", "0", "1234"])
        return f"${body}*{crc}".encode() + rng.choice([b"\r\n", b"\r", b""])
    if kind == 8:  # wrong PINs (never a configured one: those have 4 digits)
        return f"login {rng.randint(100000, 999999)}\r".encode()
    if kind == 9:  # backspace storms and Ctrl-C
        return b"\x7f" * rng.randint(1, 300) + b"\x08\x03"
    return b"\r\n" * rng.randint(1, 3)


@pytest.fixture
def bench() -> Any:
    b = Bench(console={"read_budget_bytes": 512}, backup={"return_delay_s": 1.0},
              hal={"serial": {"ports": [PORT, FUZZ, DEAF, CLEAN]}})
    yield b
    b.close()




def _drain(fd: int, into: bytearray) -> None:
    """Everything the pty's master holds now (a read returns at most one chunk)."""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            into.extend(chunk)


def test_ten_thousand_hostile_inputs_leave_the_loop_and_other_terminals_unaffected(
        bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    charger = bench.charger
    charger.request("charge")
    bench.run_until(lambda: charger.state is State.ENERGISED_CHARGE, 60.0)
    ptys = simulated(charger.hw).ptys
    fuzz_fd, deaf_fd = ptys[FUZZ].master_fd, ptys[DEAF].master_fd
    for fd in (fuzz_fd, deaf_fd):
        os.set_blocking(fd, False)
    rng = random.Random(SEED)
    backlog = bytearray()
    sent = 0
    output = bytearray()

    def feed(_sup: object) -> None:
        nonlocal sent
        if sent < INPUTS and len(backlog) < 4096:
            backlog.extend(_hostile(rng))
            sent += 1
        for fd, data in ((fuzz_fd, backlog), (deaf_fd, bytearray(b"help\r"))):
            try:
                written = os.write(fd, bytes(data))
            except BlockingIOError:
                written = 0
            if data is backlog:
                del backlog[:written]
        bench.console.on_tick()
        # A PIN check runs on a worker thread in real time: virtual time waits for it (bounded,
        # as Bench does), so the next tick answers the login whatever the machine's load.
        for session in bench.console.sessions.values():
            if session.login is not None:
                session.login.result.result(timeout=DELIVERY_WAIT_S)
        _drain(fuzz_fd, output)  # the fuzzing terminal reads; the deaf one never does

    ticks, start = charger.sup.ticks, charger.now
    charger.sup.run(stop=lambda: sent >= INPUTS and not backlog, on_tick=feed)
    charger.sup.run(duration_s=1.0, on_tick=feed)  # the last lines are answered
    elapsed = charger.now - start
    fuzzed = bench.console.channels[FUZZ]
    deadline = time.monotonic() + DELIVERY_WAIT_S  # real time, only as a bound
    while len(output) < fuzzed.written_total and time.monotonic() < deadline:
        select.select([fuzz_fd], [], [], DELIVERY_WAIT_S)
        _drain(fuzz_fd, output)

    assert sent == INPUTS
    assert not any(session.login is not None for session in bench.console.sessions.values())
    assert len(output) == fuzzed.written_total > 0  # every byte written was read
    tick_s = charger.config.control.tick_s
    assert charger.sup.ticks - ticks == pytest.approx(elapsed / tick_s, abs=1)
    assert charger.sup.overruns == 0 and charger.sup.healthy
    assert charger.state is State.ENERGISED_CHARGE and not charger.sup.status().faults
    text = output.decode("ascii", "replace")
    assert "internal error" not in text
    assert "line longer than" in text and "not printable ASCII" in text
    assert "checksum mismatch" in text and "needs the operator role" in text
    assert "locked out" in text
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems, [r.getMessage() for r in problems]
    deaf = bench.console.channels[DEAF]
    assert deaf.queued <= deaf.limit and deaf.dropped_total > 0

    # the third terminal: typed through its bridge, each tick waits (bounded) for its bytes
    seen = bench.type_on(CLEAN, "status", until=b"faults     none")
    assert "state      energised_charge" in seen
