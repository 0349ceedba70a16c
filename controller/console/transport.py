"""One serial port as the console sees it: budgeted reads, a bounded output buffer.

Reads take at most ``read_budget`` bytes per tick. Output waits in a buffer of at most
``limit`` bytes and is written as far as the port accepts without blocking; when a terminal stops
reading, further output is dropped and one note says how much once it reads again. A port that
fails is logged once, skipped for ``RETRY_S`` and tried again; its return is logged once. A
failure (a cable pulled, the other side of a pty hanging up: reads raise) is also reported once
through ``lost`` so the server ends the port's session, and queued output is discarded then.
"""

from __future__ import annotations

import logging

from hal.interfaces.serial_port import SerialPort

log = logging.getLogger("v2x.console")

WRITE_BUDGET_BYTES = 1024  # per port per tick: 50 kB/s at a 20 ms tick, above 115200 baud
RETRY_S = 5.0


class PortChannel:
    def __init__(self, name: str, port: SerialPort, read_budget: int, limit: int) -> None:
        self.name = name
        self.port = port
        self.read_budget = read_budget
        self.limit = limit
        self._out = bytearray()
        self.dropped = 0  # bytes dropped since the last note
        self.dropped_total = 0
        self.written_total = 0  # bytes the port accepted since it was opened
        self.failed_at: float | None = None
        self.lost: str | None = None  # why the port failed, until the server has ended its session

    def read(self, now: float) -> bytes:
        if not self._usable(now):
            return b""
        try:
            data = self.port.read(self.read_budget)
        except Exception as err:  # any port failure: skip the port, never the loop
            self._fail(now, err)
            return b""
        self._recovered()
        return data[: self.read_budget]

    def send(self, data: bytes) -> None:
        """Queue output; what does not fit is dropped and counted."""
        room = self.limit - len(self._out)
        if len(data) > room:
            self.dropped += len(data) - max(room, 0)
            self.dropped_total += len(data) - max(room, 0)
            data = data[: max(room, 0)]
        self._out += data

    @property
    def queued(self) -> int:
        return len(self._out)

    def flush(self, now: float) -> None:
        if self.dropped and len(self._out) < self.limit // 2:
            note = f"\r\n[{self.dropped} bytes of output dropped: terminal not reading]\r\n"
            self._out += note.encode("ascii")
            self.dropped = 0
        if not self._out or not self._usable(now):
            return
        try:
            written = self.port.write(bytes(self._out[:WRITE_BUDGET_BYTES]))
        except Exception as err:
            self._fail(now, err)
            return
        self._recovered()
        del self._out[: max(0, written)]
        self.written_total += max(0, written)

    def _usable(self, now: float) -> bool:
        return self.failed_at is None or now - self.failed_at >= RETRY_S

    def discard(self) -> None:
        """Forget queued output (nothing meant for the last session reaches the next one)."""
        self._out.clear()
        self.dropped = 0

    @property
    def working(self) -> bool:
        return self.failed_at is None

    def _fail(self, now: float, err: Exception) -> None:
        if self.failed_at is None:
            log.warning("console port %s failed: %s (retrying every %.0f s)", self.name, err,
                        RETRY_S)
            self.lost = str(err)
        self.failed_at = now

    def _recovered(self) -> None:
        if self.failed_at is not None:
            log.info("console port %s works again", self.name)
            self.failed_at = None
