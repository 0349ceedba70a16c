"""The one trip path (Klipper's ``invoke_shutdown``): every fault and every forced safe state.

:meth:`TripPath.trip` is the only way a fault is latched, the outputs are forced safe or the
mode machine's ``trip`` / ``emergency_stop`` trigger fires. In order, each step guarded so that
a failure in one never stops the next:

1. the veto: an EMERGENCY code (or ``force``) makes the output plan safe, and a new one (or
   ``force``) drops the outputs (inverter off, every coil) at this tick's output stage, or at
   once outside it (``controller/supervisor/outputs.py``);
2. the latch: once while the code is active (``FaultManager.trip``: stored, counted, retry
   planned); the trip log and the event say what to check;
3. the trigger, when given, fires on the mode machine with the reason it records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from controller.faults import CATALOGUE, Severity
from controller.modes.machine import ModeLogic
from controller.modes.plan import OutputPlan
from controller.supervisor.fault_manager import FaultManager
from controller.supervisor.outputs import OutputStage
from controller.supervisor.recorder import Recorder
from hal.interfaces.clock import Clock

log = logging.getLogger("v2x.supervisor")


@dataclass(frozen=True, slots=True)
class TripRecord:
    """One protection trip as the report shows it."""

    t: float
    function: str
    detail: str
    measured: float | None = None
    setting: float | None = None


class TripPath:
    def __init__(self, faults: FaultManager, plan: OutputPlan, outputs: OutputStage,
                 modes: ModeLogic, recorder: Recorder, clock: Clock) -> None:
        self._faults = faults
        self._plan = plan
        self._outputs = outputs
        self._modes = modes
        self._recorder = recorder
        self._clock = clock
        self.log: list[TripRecord] = []
        self.closed_since: float | None = None  # the power contactors closed then (or None)
        self.after_fire: Callable[[], None] = lambda: None  # acts on the machine's intents

    def trip(self, code: str | None, detail: str = "", measured: float | None = None,
             setting: float | None = None, *, trigger: str | None = None, reason: str = "",
             force: bool = False) -> None:
        """Latch ``code`` (None: nothing new, e.g. a STOP fault's ramp-down has ended), force
        the safe state for an EMERGENCY code or when ``force`` is set, then fire ``trigger``
        on the mode machine (``trip`` or ``emergency_stop``) with ``reason``. Never raises."""
        now = self._clock.now()
        emergency = code is not None and CATALOGUE[code].severity is Severity.EMERGENCY
        new = code is not None and code not in self._faults.codes
        if emergency or force:
            self._guarded("safe plan", self._plan.safe)
        if (emergency and new) or force:
            self._guarded("force outputs", self._outputs.force)
        if code is not None and new:
            self._guarded("latch", lambda: self._latch(code, detail, measured, setting, now))
        if trigger is not None:
            self.fire(trigger, reason, now)

    def fire(self, trigger: str, reason: str, now: float) -> None:
        """Fire a trigger the supervisor owns (``trip``, ``emergency_stop``, ``reset``) and act
        on what the machine asked for at once (records keep their order); never raises."""
        self._guarded(trigger, lambda: self._modes.fire(trigger, reason, now=now))
        self._guarded("intents", self.after_fire)

    def _latch(self, code: str, detail: str, measured: float | None, setting: float | None,
               now: float) -> None:
        closed_for = None if self.closed_since is None else now - self.closed_since
        failed = len(self._faults.handler_failures)
        new = self._faults.trip(code, detail, now, self._clock.wall_time(), closed_for)
        if new is None:
            return
        self.log.append(TripRecord(now, code, detail, measured, setting))
        kind = new.kind
        self._recorder.event("trip", f"{code}: {detail} - check {kind.check} "
                             f"[{kind.severity.value}, from {kind.origin.value}, clear: "
                             f"{kind.clear_by.value}; {self._faults.retry_note(code)}]", t=now)
        for failure in self._faults.handler_failures[failed:]:
            self._recorder.event("fault", f"trip handler failed ({code}): {failure}", t=now)
            self._recorder.store_failed(failure)

    def note(self, record: TripRecord, text: str) -> None:
        """A trip that is not a latched fault (the grid window): the log and the event only."""
        self.log.append(record)
        self._recorder.event("trip", text, t=record.t)

    def _guarded(self, step: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:  # every step runs, whatever the others do
            log.exception("trip path: %s failed", step)
