"""A technician's terminal on the simulator's console pty, for the console tests (no tests here)."""

from __future__ import annotations

import json
import select
import time
from collections.abc import Callable
from typing import Any

import serial

from controller.console.framing import frame
from controller.console.pin_hash import hash_pin
from controller.console.server import ConsoleServer
from controller.store.audit_store import AuditStore
from hal.sim.backend import simulated
from tests.harness import Charger

PORT = "/dev/ttyGS0"  # the USB gadget port (/dev/serial0 would claim GPIO 14/15)
OPERATOR_PIN = "1357"
TECHNICIAN_PIN = "2468"
TEST_SCRYPT_N = 16  # cheap hashes, allowed by console.min_scrypt_n in the test config only
PROMPT = b"]> "
DELIVERY_WAIT_S = 2.0  # real time, only as a bound: the bytes normally cross in microseconds


def console_overrides(console: dict[str, Any] | None = None,
                      **sections: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "operator_pin_hash": hash_pin(OPERATOR_PIN, n=TEST_SCRYPT_N, r=1),
        "technician_pin_hash": hash_pin(TECHNICIAN_PIN, n=TEST_SCRYPT_N, r=1),
        "min_scrypt_n": TEST_SCRYPT_N,
    }
    settings.update(console or {})
    return {"hal": {"serial": {"ports": [PORT]}}, "console": settings, **sections}


class Bench:
    """A simulated charger serving the console, and a terminal attached to its pty."""

    def __init__(self, console: dict[str, Any] | None = None, store_path: str = ":memory:",
                 **sections: dict[str, Any]) -> None:
        self.charger = Charger(console_overrides(console, **sections), store_path=store_path)
        self.audit = AuditStore(self.charger.store.connection)
        self.console = ConsoleServer(self.charger.sup, self.charger.hw.serial, self.audit)
        self.pair = simulated(self.charger.hw).ptys[PORT]
        self.path: str = self.pair.open_terminal()
        self.term = serial.Serial(self.path, 115200, timeout=0)
        self.seen = bytearray()
        self.events: list[dict[str, Any]] = []
        self.ticks = 0
        self._received = 0  # bytes the terminal has read (of channel.written_total)
        self._others: dict[str, serial.Serial] = {}  # more terminals (``type_on``)

    def _on_tick(self, _sup: object) -> None:
        self.ticks += 1
        self.console.on_tick()
        # Virtual time must not run ahead of the two helper threads, whatever the machine's
        # load: a PIN check on the worker and the bytes crossing the null-modem bridge.
        for session in self.console.sessions.values():
            if session.login is not None:
                session.login.result.result(timeout=DELIVERY_WAIT_S)
        channel = self.console.channels[PORT]
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while True:
            chunk = self.term.read(4096)
            self.seen += chunk
            self._received += len(chunk)
            if self._received >= channel.written_total or time.monotonic() > deadline:
                break
            select.select([self.term.fileno()], [], [], DELIVERY_WAIT_S)

    def run(self, seconds: float) -> None:
        self.charger.sup.run(duration_s=seconds, on_tick=self._on_tick)

    def until(self, marker: bytes, limit_s: float = 20.0) -> bytes:
        """Tick until ``marker`` arrived; returns everything received up to and including it."""
        start = self.charger.now
        self.charger.sup.run(stop=lambda: marker in self.seen
                             or self.charger.now - start > limit_s, on_tick=self._on_tick)
        assert marker in self.seen, f"{marker!r} not received in {limit_s} s: {bytes(self.seen)!r}"
        end = self.seen.index(marker) + len(marker)
        got = bytes(self.seen[:end])
        del self.seen[:end]
        return got

    def send(self, data: bytes) -> None:
        """Type ``data``; the loop resumes once it reached the controller's end of the pty."""
        self.term.write(data)
        self.pair.wait_for_input(DELIVERY_WAIT_S)

    def type(self, line: str, until: bytes = PROMPT) -> str:
        self.send(line.encode("ascii") + b"\r")
        return self.until(until).decode("ascii", "replace")

    def reply(self) -> dict[str, Any]:
        """The next JSON reply (a line with "cmd"); event lines before it stay in ``events``."""
        while True:
            line = self.until(b"}\r\n").decode("ascii").strip().splitlines()[-1]
            decoded: dict[str, Any] = json.loads(line)
            if "cmd" in decoded:
                return decoded
            self.events.append(decoded)

    def request(self, body: str) -> dict[str, Any]:
        self.send(frame(body).encode("ascii") + b"\r\n")
        return self.reply()

    def run_until(self, predicate: Callable[[], bool], limit_s: float) -> None:
        """Tick (serving the console) until ``predicate()``; fails past the limit."""
        start = self.charger.now
        self.charger.sup.run(stop=lambda: predicate() or self.charger.now - start > limit_s,
                             on_tick=self._on_tick)
        assert predicate(), f"not reached within {limit_s} s (state {self.charger.state})"

    def type_on(self, port: str, line: str, until: bytes = PROMPT) -> str:
        """Type ``line`` on a second terminal attached to ``port``; its answer up to ``until``."""
        pair = simulated(self.charger.hw).ptys[port]
        if port not in self._others:
            self._others[port] = serial.Serial(pair.open_terminal(), 115200, timeout=0)
        term, seen = self._others[port], bytearray()
        echo = line.encode("ascii") + b"\r\n"

        def answered() -> bool:
            return echo in seen and until in seen[seen.index(echo) + len(echo):]

        term.write(line.encode("ascii") + b"\r")
        pair.wait_for_input(DELIVERY_WAIT_S)
        start = self.charger.now

        def tick(sup: object) -> None:
            self._on_tick(sup)
            deadline = time.monotonic() + DELIVERY_WAIT_S
            while not answered() and time.monotonic() < deadline:
                select.select([term.fileno()], [], [], 0.01)
                chunk = term.read(4096)
                seen.extend(chunk)
                if not chunk:
                    break

        self.charger.sup.run(stop=lambda: answered() or self.charger.now - start > 20.0,
                             on_tick=tick)
        assert answered(), f"{until!r} not received on {port}: {bytes(seen)!r}"
        return seen.decode("ascii", "replace")

    def close(self) -> None:
        for term in self._others.values():
            term.close()
        self.term.close()
        self.console.close()
        self.charger.close()
