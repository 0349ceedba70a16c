"""Issue 15.7: a console session ends when its port fails or the other side hangs up, so the
next person on the cable never inherits a technician's login, service mode or history."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from controller.console.roles import Role
from controller.dispatch.arbitration import Source
from hal.errors import HalIOError
from hal.interfaces.serial_port import SerialPort
from hal.sim.backend import simulated
from tests.test_console_bench import PORT, TECHNICIAN_PIN, Bench

OTHER = "/dev/ttyUSB0"


class PulledCable:
    """The real pty port behind a cable that can be pulled: while pulled, every read and write
    fails as pyserial's do when a USB-serial adapter disappears."""

    def __init__(self, port: SerialPort) -> None:
        self.name = port.name
        self._port = port
        self.pulled = False

    def read(self, max_bytes: int) -> bytes:
        if self.pulled:
            raise HalIOError(f"serial port {self.name}: read failed: [Errno 5] I/O error")
        return self._port.read(max_bytes)

    def write(self, data: bytes) -> int:
        if self.pulled:
            raise HalIOError(f"serial port {self.name}: write failed: [Errno 5] I/O error")
        return self._port.write(data)

    def close(self) -> None:
        self._port.close()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench(console={"session_timeout_s": 300.0}, hal={"serial": {"ports": [PORT, OTHER]}})
    b.until(b"]> ")
    yield b
    b.close()


def test_a_port_failure_ends_the_session_before_the_next_person_types(bench: Bench) -> None:
    cable = PulledCable(bench.console.channels[PORT].port)
    bench.console.channels[PORT].port = cable
    bench.type(f"login {TECHNICIAN_PIN}")
    assert "service mode on" in bench.type("service on")
    bench.type("status")  # something in the history
    assert Source.TECHNICIAN in bench.charger.sup.arbiter.claims
    cable.pulled = True
    bench.run(30.0)
    assert Source.TECHNICIAN not in bench.charger.sup.arbiter.claims  # released at once
    cable.pulled = False
    bench.seen.clear()
    banner = bench.until(b"]> ").decode()  # the next person gets a fresh banner
    assert "technician console" in banner and "viewer]> " in banner
    assert "viewer on /dev/ttyGS0" in bench.type("whoami")
    assert "needs the technician role" in bench.type("reset")
    assert "status" not in bench.type("\x1b[A\x1b[A")  # the last person's history is gone
    ended = [(e.role, e.outcome) for e in bench.audit.entries() if e.command == "port lost"]
    assert ended[0][0] == "technician" and "I/O error" in ended[0][1]
    assert ("technician", "technician session ended") in ended


def test_a_hang_up_ends_the_session(bench: Bench) -> None:
    pair = simulated(bench.charger.hw).ptys[OTHER]
    master = pair.master_fd
    os.set_blocking(master, False)
    os.write(master, f"login {TECHNICIAN_PIN}\rservice on\r".encode())
    seen = bytearray()

    def tick(sup: object) -> None:
        bench.console.on_tick()
        session = bench.console.sessions[OTHER]
        if session.login is not None:
            session.login.result.result(timeout=2.0)
        with contextlib.suppress(BlockingIOError):
            seen.extend(os.read(master, 4096))

    bench.charger.sup.run(stop=lambda: b"service mode on" in seen
                          or bench.charger.now > 20.0, on_tick=tick)
    assert bench.console.sessions[OTHER].role is Role.TECHNICIAN
    assert bench.console.sessions[OTHER].service
    # the other side closes: the pty's master end goes (its fd number now reads /dev/null)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, master)
    os.close(null)
    bench.run(0.1)
    session = bench.console.sessions[OTHER]
    assert session.role is Role.VIEWER and not session.service
    assert Source.TECHNICIAN not in bench.charger.sup.arbiter.claims
    assert any(e.command == "port lost" and e.port == OTHER for e in bench.audit.entries())
    assert "viewer on /dev/ttyGS0" in bench.type("whoami")  # the other port is untouched
