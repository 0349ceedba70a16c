"""The loop's life around its ticks: start-up records, calibration, running, the shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from controller.dispatch.arbitration import Claim, Source
from controller.modes.states import DE_ENERGISED
from controller.store.calibration_store import CalibrationStore
from controller.store.state_store import StateStore
from controller.supervisor.shutdown_report import Position, ShutdownReport
from controller.supervisor.stages import TickStages

if TYPE_CHECKING:
    from controller.supervisor.loop import Supervisor

MAX_CONSECUTIVE_ERRORS = 10


class Lifecycle(TickStages):
    """Of :class:`controller.supervisor.loop.Supervisor` (which provides the attributes)."""

    store: StateStore
    overruns: int
    _shutdown_cause: str

    def _started(self, description: str) -> None:
        event = self.recorder.event
        event("start", f"controller started on {description}")
        event("settings", "inverter settings to write: "
              + self.inverter_settings.describe_desired())
        if self.faults.codes:
            event("fault", "latched faults from before the restart: "
                  + ", ".join(sorted(self.faults.codes)))
        counts = self.faults.counter_rows()
        if counts:
            event("fault", "fault counters: " + ", ".join(f"{c.code} x{c.count}" for c in counts))

    def reload_calibration(self) -> None:
        """Load the stored calibrations (controller/store/calibration_store.py) and apply them
        from the next tick; a stored row that fails validation is logged and not applied."""
        loaded = CalibrationStore(self.store).load()
        self.calibration = loaded.calibrations
        channels = sorted(loaded.calibrations.channels)
        if channels:
            self.recorder.event("calibration", "applied: " + ", ".join(
                f"{c.channel} (gain {c.gain:.5f}, offset {c.offset:.4g}, {c.reference}, {c.date})"
                for c in (loaded.calibrations.channels[name] for name in channels)))
        for why in loaded.refused:
            self.recorder.event("calibration", f"refused: {why}")

    # ----- loop control ----------------------------------------------------------------------
    def run(self, duration_s: float | None = None, stop: Callable[[], bool] = lambda: False,
            on_tick: Callable[[Supervisor], None] | None = None) -> None:
        """Tick at the configured rate until ``duration_s`` of clock time or ``stop()``.
        ``on_tick`` runs after each tick, on the loop's thread (the consoles are served so)."""
        period = self.config.control.tick_s
        start = self.clock.now()
        deadline = self.clock.now()
        while not stop() and (duration_s is None or self.clock.now() - start < duration_s - 1e-9):
            self.tick()
            if on_tick is not None:
                on_tick(self)  # type: ignore[arg-type]  # a Supervisor is a Lifecycle
            if self._consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                raise RuntimeError("control loop keeps failing; outputs forced safe")
            deadline += period
            if self.clock.now() > deadline:
                self.overruns += 1
                deadline = self.clock.now()
            self.store.release()  # the tick's records go to the disk while the loop waits
            self.clock.sleep_until(deadline)

    def shutdown(self, requested_by: str = "the controller", why: str = "",
                 on_tick: Callable[[Supervisor], None] | None = None) -> bool:
        """Ramp to zero, open every contactor, read the aux contacts once the coils had their
        time to drop; True only when all of it is confirmed. ``requested_by`` and ``why`` name
        who asked (the log says so); the stop itself is the controller's own ``idle`` claim,
        which outranks every requester. ``on_tick`` runs after each tick, as in :meth:`run`.
        A shutdown is not a trip: its last step drops every output through the output stage
        whatever the ramp achieved, and latches nothing."""
        start = self.clock.now()
        self._shutdown_cause = f"{requested_by} ({why})" if why else requested_by
        self.recorder.event("stop", f"stop requested by {self._shutdown_cause}: ramping the "
                            "power to zero, then opening every contactor")
        self._shutting_down = True
        # outranks every requester; held until released
        self.arbiter.claim(Claim(Source.SAFETY, "idle", None, None, start), start)
        limit = (self.config.sequence.rampdown_timeout_s
                 + 2 * self.config.sequence.contactor_timeout_s + 1.0)
        failure = ""
        try:
            self.run(stop=lambda: (self.modes.current in DE_ENERGISED and self.plan.is_safe())
                     or self.clock.now() - start > limit, on_tick=on_tick)
        except RuntimeError as err:  # the loop kept failing; each failed tick forced outputs safe
            failure = f"{err}; "
        ramped = not failure and self.modes.current in DE_ENERGISED and self.plan.is_safe()
        ramp_s = self.clock.now() - start
        self.stage = "outputs"
        self.outputs.force()
        self.stage = "shutdown"
        dropped = self.clock.now()
        positions = self._await_de_energised(self.config.sequence.contactor_timeout_s)
        report = ShutdownReport(self._shutdown_cause, ramped, ramp_s, limit,
                                self.clock.now() - dropped, self.clock.now() - start,
                                positions, self.modes.state, failure)
        self.recorder.event("stop", report.details(),
                            level=None if report.confirmed else logging.ERROR)
        self.recorder.event("shutdown", report.summary(),
                            level=None if report.confirmed else logging.ERROR)
        self.stage = "idle"
        return report.confirmed

    def _await_de_energised(self, timeout_s: float) -> dict[str, Position]:
        """Poll the aux contacts (no ticks: the outputs stay dropped) until each shows its
        de-energised position or ``timeout_s`` passed; the last reading of each."""
        deadline = self.clock.now() + timeout_s
        while True:
            positions = {name: Position.read(c) for name, c in self.hw.contactors.items()}
            if all(p.settled for p in positions.values()) or self.clock.now() >= deadline:
                return positions
            self.clock.sleep_until(min(self.clock.now() + self.config.control.tick_s, deadline))
