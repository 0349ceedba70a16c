"""The tick's I2C reads, in one place: every chip polled once per tick joins here (issue 20).

On a Pi at 100 kHz the meter and ADC reads of one tick put about 633 bits on the wire, ~6.3 ms
of every 20 ms tick spent blocked in the kernel (1.6 ms at the 400 kHz ``hw/install.sh`` sets).
A reader takes those reads off the tick's critical path without changing what the loop sees:

- **inline** (the simulator, tests): :meth:`I2cReader.collect` runs the cycle there and then,
  at the point of the snapshot where the reads always ran. Deterministic under the virtual
  clock: no thread, the same reads in the same order.
- **background** (the ``pi`` backend): a thread at the edge (as ``/work/shared/ARCHITECTURE.md``
  allows for I/O) runs the cycle. ``collect`` takes the newest *finished* cycle (a bounded
  queue of one result set: newest wins) and hands the thread the token for the next cycle
  (a bounded queue of one token), so the wire time overlaps the rest of the tick and the sleep
  to the next one. The readings used by tick N were taken at the end of tick N-1 (their
  timestamps say so); a reader that stops (a hung bus) hands back nothing new, so the readings
  age and protection's staleness checks (``METER_LOST``, ``SENSOR_STALE``) trip as today.

A device joins with :meth:`I2cReader.join`: a name and a callable that reads it once (raising
:class:`hal.errors.V2xError` for a device problem). Its result is then in every
:class:`Cycle` under that name, beside the meter (``meter``), the DC ADC (``adc``) and the NTC
ADC (``thermal``); the order of joining is the order of the reads (the ADS1115's latched
ALERT is read as a GPIO input before the cycle, ``controller/supervisor/inputs.py``). For
example an MCP23017 GPIO expander read once per tick:
``reader.join("expander", expander.read)``, and the input stage reads
``cycle.value("expander")``.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from hal.errors import V2xError

INLINE: Final = "inline"
BACKGROUND: Final = "background"
JOIN_TIMEOUT_S: Final = 1.0  # closing waits this long for a cycle stuck on the wire


@dataclass(frozen=True, slots=True)
class Result:
    """One device's read in a cycle: its value, or the error text of a device problem."""

    value: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Cycle:
    """Every joined device's result from one pass, and when the pass started."""

    t: float
    results: dict[str, Result] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        result = self.results.get(name)
        return None if result is None else result.value

    def error(self, name: str) -> str | None:
        result = self.results.get(name)
        return None if result is None else result.error


NO_CYCLE: Final = Cycle(t=float("-inf"))  # before the background reader finished one pass


class I2cReader:
    """The registration point for per-tick I2C reads, run inline or in a background thread."""

    def __init__(self, now: Callable[[], float], mode: str = INLINE) -> None:
        if mode not in (INLINE, BACKGROUND):
            raise ValueError(f"I2C reader mode {mode!r}: must be {INLINE!r} or {BACKGROUND!r}")
        self.mode = mode
        self._now = now
        self._jobs: list[tuple[str, Callable[[], Any]]] = []
        self._latest = NO_CYCLE
        self._done: queue.Queue[Cycle] = queue.Queue(maxsize=1)
        self._start: queue.Queue[bool] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self.cycles = 0

    def join(self, name: str, read: Callable[[], Any]) -> None:
        """Read ``read()`` once per cycle under ``name`` (before the reader starts)."""
        if any(existing == name for existing, _ in self._jobs):
            raise ValueError(f"I2C reader: {name!r} joined twice")
        if self._thread is not None:
            raise RuntimeError("I2C reader: join before the first collect")
        self._jobs.append((name, read))

    def run_cycle(self) -> Cycle:
        """Read every joined device once, in order; a device problem becomes its error text."""
        t = self._now()
        results: dict[str, Result] = {}
        for name, read in self._jobs:
            try:
                results[name] = Result(read())
            except V2xError as err:
                results[name] = Result(error=str(err))
        self.cycles += 1
        return Cycle(t, results)

    def collect(self) -> Cycle:
        """Inline: run a cycle now. Background: the newest finished cycle (the same one again
        when none finished since), then start the next."""
        if self.mode == INLINE:
            self._latest = self.run_cycle()
            return self._latest
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="v2x-i2c-reader",
                                            daemon=True)
            self._thread.start()
        with contextlib.suppress(queue.Empty):
            self._latest = self._done.get_nowait()
        # A token still waiting means the reader is busy or stuck: it keeps that one.
        with contextlib.suppress(queue.Full):
            self._start.put_nowait(True)
        return self._latest

    def _serve(self) -> None:
        while self._start.get():
            cycle = self.run_cycle()
            with contextlib.suppress(queue.Empty):
                self._done.get_nowait()  # newest wins: drop an uncollected older cycle
            self._done.put_nowait(cycle)

    def close(self) -> None:
        """Stop the background thread (after its cycle in progress, bounded wait)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        while True:
            try:
                self._start.get_nowait()
            except queue.Empty:
                break
        self._start.put(False)
        thread.join(JOIN_TIMEOUT_S)
