"""The fault stage of a tick: this tick's trips through the one trip path, the graceful stop
of a STOP fault, resets and automatic retries, and the controller's own safety claim.

Runs after the tick's context is built and the mode machine has begun its step on it, before
the machine's ``tick`` trigger. An EMERGENCY trip drops everything in this tick; the inverter's
own faults, and a STOP that cannot ramp, go to ``fault`` at once; any other STOP makes the
controller claim ``idle`` with the safety priority (ramp down, open in order), then ``fault``
once a safe state is reached, or at ``safety.loop.stop_deadline_s`` as an emergency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from controller.config.model import Config
from controller.faults import CATALOGUE, UNTRUSTED_INVERTER, Origin, Severity
from controller.modes.machine import ModeLogic
from controller.modes.plan import OutputPlan
from controller.modes.states import DE_ENERGISED, LATCHED, State
from controller.protection.protection import ProtectionResult
from controller.protection.retry_evidence import Observed, cause_gone
from controller.protection.trip import Trip
from controller.supervisor.fault_manager import AUTO, FaultManager
from controller.supervisor.recorder import Recorder
from controller.supervisor.trip_path import TripPath, TripRecord
from controller.values.context import TickContext
from controller.vocabulary import POWER_CONTACTORS
from hal.interfaces.clock import Clock
from hal.protocols.inverter_messages import InverterMode

POWER_NAMES = frozenset(c.value for c in POWER_CONTACTORS)  # plain strings: looked up per tick
ENTER_SERVICE_STEP = 0.05  # IEEE 1547-2018 4.10.3 allows steps; 5 % of the rating each
SafetyClaim = tuple[str | None, float | None]  # (mode, power ceiling) the controller claims


class FaultStage:
    def __init__(self, config: Config, faults: FaultManager, trips: TripPath, modes: ModeLogic,
                 plan: OutputPlan, recorder: Recorder, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._faults = faults
        self._trips = trips
        self._modes = modes
        self._plan = plan
        self._recorder = recorder
        self._grid_was_ok = False
        self.stop_since: float | None = None  # a STOP fault is ramping down since then
        self.reset_role: str | None = None  # a reset asked for, applied at the next tick
        self.seamless_return = False  # back from backup in phase: the enter-service ramp is moot

    # ----- latching --------------------------------------------------------------------------
    def latch(self, ctx: TickContext, trips: Iterable[Trip]) -> set[str]:
        """Every trip of this tick through the trip path; returns their codes."""
        snap, result = ctx.snapshot, ctx.protection
        self._track_closing(ctx)
        codes: set[str] = set()
        for trip in trips:
            codes.add(trip.code)
            self._trips.trip(trip.code, trip.detail, trip.measured, trip.setting)
        if self._grid_was_ok and not result.grid.ok:
            self._trips.note(TripRecord(snap.t, "GRID_WINDOW", result.grid.reason),
                             f"GRID_WINDOW: {result.grid.reason} - power stops until the grid "
                             "is back inside its window")
        self._grid_was_ok = result.grid.ok
        for warning in self._faults.new_warnings(result.warnings):
            self._recorder.event("warning", f"{warning.code}: {warning.detail} - check "
                                 f"{CATALOGUE[warning.code].check}", t=snap.t)
        return codes

    def _track_closing(self, ctx: TickContext) -> None:
        closed = any(v.commanded_closed for n, v in ctx.snapshot.contactors.items()
                     if n in POWER_NAMES)
        if not closed:
            self._trips.closed_since = None
        elif self._trips.closed_since is None:
            self._trips.closed_since = ctx.snapshot.t

    # ----- stopping --------------------------------------------------------------------------
    def react(self, ctx: TickContext, codes: set[str], loop_ok: bool) -> None:
        """Trip or stop for this tick's codes, then a reset or an automatic retry."""
        now = ctx.snapshot.t
        reset_role, self.reset_role = self.reset_role, None  # consumed, never pending
        # A STOP the inverter reported needs no ramp: it has ceased already.
        emergency = any(CATALOGUE[c].severity is Severity.EMERGENCY
                        or CATALOGUE[c].origin is Origin.INVERTER for c in codes)
        if "ESTOP" in codes:
            self._trips.trip(None, trigger="emergency_stop", reason="E-stop loop open")
        elif emergency or (codes and not self._can_ramp() and not self._isolating(codes)):
            self._trips.trip(None, trigger="trip", reason=", ".join(sorted(codes)))
        elif codes and self.stop_since is None:  # STOP: ramp down, open, then latch
            self.stop_since = now
            self._recorder.event("stop", f"graceful stop for {', '.join(sorted(codes))}: "
                                 "ramping down")
        self._finish_stop(codes, now)
        if reset_role is not None:
            self._reset(codes, reset_role)
        elif self._modes.current is State.FAULT and self._faults.retry_due(
                now, codes, self._retry_evidence(ctx, loop_ok)):
            self._reset(codes, AUTO)

    def _isolating(self, codes: set[str]) -> bool:
        """An untrusted inverter while energised: the mode machine's ``stopping_isolate`` opens
        the AC side first and K_DC at low current (not everything at once)."""
        return bool(codes & UNTRUSTED_INVERTER) and self._modes.current not in DE_ENERGISED

    def _can_ramp(self) -> bool:
        """A graceful stop needs a power command to ramp: grid-following and energised. A
        grid-forming inverter (v2l, backup) follows its load, so a STOP there ceases the
        inverter first and drops the coils in the same tick (no current left to break)."""
        return (self._modes.current not in DE_ENERGISED
                and self._plan.inverter_mode is InverterMode.GRID_FOLLOWING)

    def _finish_stop(self, codes: set[str], now: float) -> None:
        """A STOP fault ends in ``fault`` once the ramp-down reached a safe state, or at its
        deadline as an emergency."""
        if self.stop_since is None:
            return
        if self._modes.current in LATCHED:
            self.stop_since = None
            return
        late = now - self.stop_since > self._config.safety.loop.stop_deadline_s
        if self._modes.current in DE_ENERGISED or late:
            reason = ", ".join(sorted(codes | self._faults.codes)) + (
                " (stop deadline passed: opened at once)" if late else " (stopped)")
            self._trips.trip(None, trigger="trip", reason=reason, force=late)
            self.stop_since = None

    def _retry_evidence(self, ctx: TickContext, loop_ok: bool) -> Callable[[str], bool]:
        """Per code: does this tick show its cause gone (protection/retry_evidence.py)."""
        observed = Observed(ctx.snapshot, ctx.protection, self._config, loop_ok)
        return lambda code: cause_gone(code, observed)

    # ----- resets ----------------------------------------------------------------------------
    def _reset(self, codes: set[str], role: str) -> None:
        """A reset by ``role`` (operator, technician, or the automatic retry): refused (and
        forgotten) while any trip condition is present or a fault needs a higher role."""
        event = self._recorder.event
        if self._modes.current not in LATCHED:
            event("reset", f"reset ignored: nothing latched (state {self._modes.state})")
            return
        if codes:
            event("reset", "reset refused: still present: " + ", ".join(sorted(codes)))
            return
        refusal = self._faults.refusal(role)
        if refusal is not None:
            event("reset", f"{role} reset refused: {refusal}")
            return
        self._trips.fire("reset", "automatic retry" if role == AUTO else f"{role} reset",
                         self._clock.now())
        if self._modes.current in LATCHED:
            event("reset", "reset refused by the mode machine")
            return
        retried = ", ".join(sorted(self._faults.codes))
        cleared = self._faults.clear(role, self._clock.wall_time())
        if role == AUTO:
            event("retry", f"automatic retry: {retried} cleared after the back-off")
        event("reset", f"latched faults cleared ({cleared})")

    # ----- the controller's own claim --------------------------------------------------------
    def safety_claim(self, result: ProtectionResult) -> SafetyClaim:
        """Idle while a STOP fault ramps down; a power ceiling while a temperature derates, and
        the IEEE 1547 enter-service ramp after a return to service (in steps of
        ENTER_SERVICE_STEP of the rating: one claim per step, not per tick)."""
        mode = "idle" if self.stop_since is not None else None
        power = None
        ramp = math.floor(result.grid.power_fraction / ENTER_SERVICE_STEP) * ENTER_SERVICE_STEP
        if result.grid.power_fraction >= 1.0 or self._modes.current in DE_ENERGISED:
            self.seamless_return = False
        if self.seamless_return:
            ramp = 1.0  # the EV carried the home throughout: no step back to zero on the return
        fraction = min(result.power_fraction, ramp)
        if fraction < 1.0:
            power = self._config.inverter.rated_power_w * fraction
        return mode, power
