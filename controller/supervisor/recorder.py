"""The record stage: the tick's events are buffered and written to the store once per tick.

Every stage notes its events here (:meth:`Recorder.event`: logged at once, stored later);
:meth:`Recorder.flush` writes them at the end of the tick, in order, guarded: a store that
raises never escapes the loop. The events it could not write wait for the next flush (at most
:data:`MAX_PENDING`, the oldest dropped first and counted), and :attr:`Recorder.failure` says
why until a flush succeeds again; the supervisor turns that into ``STORE_WRITE_FAILED`` at the
next tick (a STOP: the charger ramps down and latches in memory; it never waits for the disk).
Outside a tick (start-up, a claim from the console, the shutdown report) events are written at
once, with the same guard.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Final

from controller.store.state_store import StateStore
from controller.supervisor.event_levels import event_level
from hal.interfaces.clock import Clock

log = logging.getLogger("v2x.supervisor")

MAX_PENDING: Final = 1000  # events kept for the next flush while the store fails


@dataclass(frozen=True, slots=True)
class Event:
    t: float
    wall_time: float
    kind: str
    text: str


class Recorder:
    def __init__(self, store: StateStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._pending: deque[Event] = deque()
        self._holding = False  # inside a tick: events wait for the record stage
        self.failure: str | None = None  # why the last flush failed (None: it did not)
        self.dropped = 0  # events lost because the store failed for too long
        self._noted: str | None = None  # another store write of the tick failed (a latch)
        self._writer = store.writer
        self._writer_failures = self._writer.failures  # records the writer thread lost

    def hold(self) -> None:
        """A tick starts: buffer until :meth:`flush`."""
        self._holding = True

    def event(self, kind: str, text: str, t: float | None = None,
              level: int | None = None) -> None:
        """Note one event: logged now, stored at the record stage (at once outside a tick)."""
        when = self._clock.now() if t is None else t
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(Event(when, self._clock.wall_time(), kind, text))
        log.log(event_level(kind) if level is None else level, "%s: %s", kind, text)
        if not self._holding:
            self.flush()

    def store_failed(self, why: str) -> None:
        """A store write other than an event failed this tick (a latched fault, a counter)."""
        self._noted = why

    def take_failure(self) -> str | None:
        """Why the store failed since the last call (None: it did not): a flush that left
        events waiting, another write of the tick, or a record the writer thread could not
        commit (``controller/store/writer.py``)."""
        why, self._noted = self.failure or self._noted, None
        writer = self._writer
        if writer.failures > self._writer_failures:
            self._writer_failures = writer.failures
            why = why or f"a record was not committed: {writer.last_error}"
        return why

    def flush(self) -> bool:
        """Write every buffered event in order; never raises. False if the store failed (the
        rest wait for the next flush)."""
        self._holding = False
        while self._pending:
            e = self._pending[0]
            try:
                self._store.record_event(e.t, e.wall_time, e.kind, e.text)
            except Exception as err:  # the store's failure is a fault, never the loop's end
                if self.failure is None:
                    log.error("state store write failed: %s: %s", type(err).__name__, err)
                self.failure = f"{type(err).__name__}: {err}"
                return False
            self._pending.popleft()
        self.failure = None
        return True
