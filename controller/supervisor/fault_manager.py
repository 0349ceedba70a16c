"""The fault model at run time: one idempotent trip path, severities, clearing rules, retries.

``trip`` is the only way a fault becomes latched, and only the supervisor's one trip path
(``controller/supervisor/trip_path.py``) calls it. It is idempotent (a code already active does
nothing) and runs every store handler in its own guard (``controller/protection/trip.py``).
A new fault is counted (``controller/store/fault_counters.py``) and written to
``latched_faults``; both survive a restart, and the controller starts in the safe state showing
them.

Retries (``[safety.retry]``): a fault the catalogue marks ``retry`` is cleared automatically once
its cause has been observably gone (``controller/protection/retry_evidence.py`` says what must be
seen, per fault: a quiet monitor is no evidence) for ``backoff_s`` (doubling with each retry used
in ``retry_window_s``), at most ``max_retries`` times; the next one stays latched for an
operator. A fault within ``latch_after_close_s`` of closing the contactors is never retried
(OpenEVSE / UL practice).
Clearing by hand: an operator reset clears only faults the catalogue lets an operator clear; a
technician reset clears everything (``controller/faults.py``, ``ClearBy``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from controller.config.safety_settings import RetrySettings
from controller.faults import CATALOGUE, ClearBy, Fault, fault
from controller.protection.trip import Trip, run_handlers
from controller.store.fault_counters import FaultCounter, FaultCounters
from controller.store.state_store import StateStore

log = logging.getLogger("v2x.faults")

AUTO = "auto"  # the role of an automatic retry


@dataclass
class _Retry:
    at: float | None  # loop time the retry is due at the earliest (None: latched)
    why: str
    delay_s: float = 0.0  # how long the cause must have been seen gone
    gone_since: float | None = None  # since when the evidence has held without a break


class FaultManager:
    def __init__(self, store: StateStore, retry: RetrySettings,
                 handlers: list[tuple[str, Callable[[Fault], None]]]) -> None:
        self._store = store
        self._retry = retry
        self.handlers = handlers
        self.counters = FaultCounters(store)
        self.codes: set[str] = {f.code for f in store.active_faults()}  # never rebound
        self._retries: dict[str, _Retry] = {c: _Retry(None, "latched before the restart")
                                            for c in self.codes}
        self._warned: set[str] = set()
        self.handler_failures: list[str] = []

    # ----- tripping --------------------------------------------------------------------------
    def trip(self, code: str, detail: str, now: float, wall: float,
             closed_for_s: float | None) -> Fault | None:
        """Latch ``code`` once while active; returns the new fault, or None if already active.

        ``closed_for_s``: how long the power contactors have been closed (None: they are open).
        """
        if code in self.codes:
            return None
        self.codes.add(code)
        new = fault(code, now, wall, detail)
        self._retries[code] = self._retry_plan(new, now, wall, closed_for_s)
        failures = run_handlers(self.handlers, new)
        for failure in failures:
            log.error("trip handler failed for %s: %s", code, failure)
        self.handler_failures += failures
        return new

    def store_handlers(self) -> list[tuple[str, Callable[[Fault], None]]]:
        """The persistent part of the trip path (the supervisor adds its own in front)."""
        return [("latch", lambda f: self._store.latch_fault(f.code, f.detail, f.wall_time)),
                ("count", lambda f: self._count(f))]

    def _count(self, f: Fault) -> None:
        self.counters.record(f.code, f.wall_time)

    def _retry_plan(self, f: Fault, now: float, wall: float, closed_for_s: float | None) -> _Retry:
        r = self._retry
        if not f.kind.retry:
            return _Retry(None, "not a transient fault")
        if closed_for_s is not None and closed_for_s < r.latch_after_close_s:
            return _Retry(None, f"within {r.latch_after_close_s} s of closing the contactors")
        used = self.counters.retries_used(f.code, wall, r.retry_window_s)
        if used >= r.max_retries:
            return _Retry(None, f"{used} automatic retries used in {r.retry_window_s:.0f} s")
        delay = r.backoff_s * 2 ** used
        return _Retry(now + delay, f"retry {used + 1} of {r.max_retries}", delay)

    def retry_note(self, code: str) -> str:
        plan = self._retries.get(code)
        if plan is None:
            return ""
        if plan.at is None:
            return f"latched ({plan.why})"
        return (f"automatic {plan.why} at t = {plan.at:.1f} s at the earliest, once the cause "
                f"has been seen gone for {plan.delay_s:g} s")

    # ----- warnings --------------------------------------------------------------------------
    def new_warnings(self, warnings: list[Trip]) -> list[Trip]:
        """Warnings that started this tick (each logged once while it lasts)."""
        present: set[str] = {w.code for w in warnings}
        fresh = {w.code: w for w in reversed(warnings) if w.code not in self._warned}
        self._warned = present
        return list(reversed(fresh.values()))

    # ----- clearing --------------------------------------------------------------------------
    def retry_due(self, now: float, present: set[str],
                  gone: Callable[[str], bool] = lambda code: False) -> bool:
        """Every active fault is transient, no cause is present, and each cause has been seen
        gone (``gone(code)``: the evidence of ``retry_evidence.py`` this tick) for its back-off;
        without evidence there is no retry."""
        if not self.codes:
            return False
        for code in self.codes:
            plan = self._retries.get(code)
            if plan is None or plan.at is None:
                continue
            if code in present or not gone(code):
                plan.gone_since = None
            elif plan.gone_since is None:
                plan.gone_since = now
        if present:
            return False
        return all((p := self._retries.get(c)) is not None and p.at is not None and now >= p.at
                   and p.gone_since is not None and now - p.gone_since >= p.delay_s
                   for c in self.codes)

    def refusal(self, role: str) -> str | None:
        """Why ``role`` may not clear the active faults (None: it may)."""
        if role == AUTO:
            return None
        needs = sorted(c for c in self.codes if not CATALOGUE[c].may_clear(role))
        if needs:
            return (f"{', '.join(needs)} may be cleared only by a "
                    f"{ClearBy.TECHNICIAN.value} reset")
        return None

    def clear(self, role: str, wall: float) -> int:
        if role == AUTO:
            for code in self.codes:
                self.counters.use_retry(code, wall, self._retry.retry_window_s)
        cleared = self._store.clear_faults(wall)
        self.codes.clear()
        self._retries.clear()
        return cleared

    def counter_rows(self) -> list[FaultCounter]:
        return self.counters.all()
