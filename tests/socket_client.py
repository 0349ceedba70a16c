"""A raw client of the control socket for tests that drive the loop tick by tick (no threads).

The test sends, runs the charger a few ticks on the virtual clock with the socket served from
``on_tick``, then reads what arrived; nothing blocks and nothing waits on the wall clock.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from controller.console.framing import frame
from controller.control_socket.server import ControlSocketServer
from harness import Charger


class RawClient:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self._buf = b""
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, body: str) -> None:
        self.send(frame(body).encode("ascii") + b"\n")

    def lines(self) -> list[dict[str, Any]]:
        """Every complete JSON line received so far."""
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except BlockingIOError:
                break
            except OSError:
                self.closed = True
                break
            if not chunk:
                self.closed = True
                break
            self._buf += chunk
        *complete, self._buf = self._buf.split(b"\n")
        return [json.loads(line) for line in complete if line.strip()]

    def close(self) -> None:
        self.sock.close()


def serve(charger: Charger, server: ControlSocketServer, seconds: float) -> None:
    """Run the charger ``seconds`` of virtual time with the socket served every tick."""
    charger.sup.run(duration_s=seconds, on_tick=server.on_tick)


def ask(charger: Charger, server: ControlSocketServer, client: RawClient,
        body: str) -> dict[str, Any]:
    """One request and its reply (the loop runs until it is there, at most 1 s)."""
    client.request(body)
    for _ in range(50):
        serve(charger, server, charger.config.control.tick_s)
        replies = [r for r in client.lines() if "event" not in r]
        if replies:
            assert len(replies) == 1, replies
            return replies[0]
    raise AssertionError(f"no reply to {body!r} within 1 s of controller time")
