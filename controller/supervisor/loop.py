"""The supervisor: one single-threaded loop on an injected clock.

One tick, in order: read inputs into a snapshot -> estimate -> protect -> step the mode machine
-> dispatch -> write outputs -> record. A trip forces the safe plan before the mode machine runs;
an exception anywhere in a tick forces the outputs safe and latches INTERNAL_ERROR.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from controller.config.model import Config
from controller.dispatch.arbitration import (
    Arbiter,
    ArbitrationRecord,
    Claim,
    Decision,
    Resolution,
    Source,
    WinnerChange,
)
from controller.dispatch.dispatcher import Dispatcher, DispatchResult
from controller.faults import CATALOGUE, ROLES, UNTRUSTED_INVERTER, Fault, Origin, Severity
from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync, inverter_settings_from_config
from controller.measurement.calibration import CalibrationSet
from controller.measurement.grid_estimator import GridEstimate, GridEstimator
from controller.modes.context import TickContext
from controller.modes.machine import ModeLogic, TransitionRecord
from controller.modes.plan import OutputPlan
from controller.modes.requests import Request
from controller.modes.service import refusal, what_happens
from controller.modes.states import DE_ENERGISED, LATCHED, State
from controller.protection.protection import Protection, ProtectionResult
from controller.protection.retry_evidence import Observed, cause_gone
from controller.store.calibration_store import CalibrationStore
from controller.store.state_store import StateStore
from controller.supervisor.event_levels import event_level
from controller.supervisor.fault_manager import AUTO, FaultManager
from controller.supervisor.inputs import read_snapshot
from controller.supervisor.outputs import force_safe, write_outputs
from controller.supervisor.shutdown_report import Position, ShutdownReport
from controller.supervisor.snapshot import Snapshot
from controller.supervisor.status import Status
from controller.vocabulary import POWER_CONTACTORS
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_messages import InverterMode

log = logging.getLogger("v2x.supervisor")

MAX_CONSECUTIVE_ERRORS = 10
ENTER_SERVICE_STEP = 0.05  # IEEE 1547-2018 4.10.3 allows steps; 5 % of the rating each


@dataclass(frozen=True, slots=True)
class TripRecord:
    """One protection trip as the report shows it."""

    t: float
    function: str
    detail: str
    measured: float | None = None
    setting: float | None = None


@dataclass(frozen=True, slots=True)
class HotOpen:
    """K_DC commanded open under load, as the controller itself saw it."""

    t: float
    emergency: bool  # an EMERGENCY fault was latched (the one case invariant 7 allows)
    current_a: float | None  # the DC current measured (None: unknown, stale)
    state: str
    text: str


SAFE_STATES = DE_ENERGISED  # nothing energised in these (controller/modes/states.py)


class Supervisor:
    """Owns the control loop and everything it ties together."""

    def __init__(self, config: Config, hardware: Hardware, store: StateStore,
                 history: int | None = None,
                 work_clock: Callable[[], float] = time.monotonic) -> None:
        """``history``: keep at least this many of the newest records in each in-memory log
        (transitions, trips, requests, winners) and at most twice as many; None keeps all (a
        scenario's report needs all of them; the daemon bounds them, the event log in the store
        keeps everything).

        ``work_clock``: the real (monotonic) clock a tick's work is timed on, beside the loop
        clock (``hardware.clock``, virtual on the simulator); a tick took the longer of the two
        (``_account_tick``). Tests inject a fake one; the scenario runner, run flat out, passes
        the loop clock (its reports must be reproducible)."""
        self.config = config
        self.work_clock = work_clock
        self._history = history
        self.hw = hardware
        self.store = store
        self.clock = hardware.clock
        codec = InverterCodec()
        self.inverter_settings = SettingsSync(hardware.can["inverter"], codec,
                                              inverter_settings_from_config(config))
        self.inverter = InverterLink(hardware.can["inverter"], codec,
                                     stale_after_s=config.protection.inverter_status_timeout_s,
                                     readback_sink=self.inverter_settings.readback)
        self.ev = EvLink(hardware.can["ev"], stale_after_s=config.protection.ev_report_timeout_s)
        self.estimator = GridEstimator(config.grid.nominal_voltage_v)
        self.protection = Protection(config, started_at=self.clock.now())
        self.dispatcher = Dispatcher(config)
        normally_closed = {n: c.normally_closed for n, c in hardware.contactors.items()}
        self.plan = OutputPlan(normally_closed)
        self.modes = ModeLogic(config, self.plan, self._on_transition, self._latch_code,
                               self._end_mode)
        self.hot_opens: list[HotOpen] = []  # the controller's own record (_note_hot_open)
        self.arbiter = Arbiter(listener=self._on_arbitration)
        self.request_log: list[ArbitrationRecord] = []  # every claim, refusal, release, expiry
        self.winner_log: list[WinnerChange] = []  # every change of a field's winner or value
        self.resolution = Resolution()  # resolved at the start of every tick
        self.request = self.resolution.as_request()
        self.transitions: list[TransitionRecord] = []
        self.trip_log: list[TripRecord] = []
        self._grid_was_ok = False
        self.blocked: str | None = None  # why the requested mode cannot start, if it cannot
        self._bus_state = "error-active"
        self.last_snapshot: Snapshot | None = None
        self.last_dispatch: DispatchResult | None = None
        self.last_estimate: GridEstimate | None = None
        self.last_protection: ProtectionResult | None = None
        self.ticks = 0
        self.overruns = 0
        self._reset_requested = False
        self._contactor_test: str | None = None
        self._seamless_return = False  # back from backup in phase: the enter-service ramp is moot
        self._consecutive_errors = 0
        # The one trip path: the veto first, then the outputs, then the records; each guarded.
        self.faults = FaultManager(store, config.safety.retry, [])
        self.faults.handlers = [("safe plan", self._trip_plan),
                                ("force outputs", self._trip_outputs),
                                *self.faults.store_handlers()]
        self._active_codes = self.faults.codes  # the same set object: the latched faults
        self._reset_role = "operator"
        self._stop_since: float | None = None  # a STOP fault is ramping down since then
        self._safety_claim: tuple[str | None, float | None] = (None, None)
        self._shutting_down = False
        self._shutdown_cause = ""  # who asked for the shutdown (the log names them)
        self._closed_since: float | None = None
        self.last_tick_s = 0.0  # the last tick's duration: max(loop clock, work clock)
        self.longest_tick_s = 0.0
        self._tick_overran = False
        self.kicks = 0  # hardware watchdog edges sent (one per healthy tick)
        self._event("start", f"controller started on {hardware.description}")
        self._event("settings", "inverter settings to write: "
                    + self.inverter_settings.describe_desired())
        if self._active_codes:
            self._event("fault", "latched faults from before the restart: "
                        + ", ".join(sorted(self._active_codes)))
        counts = self.faults.counter_rows()
        if counts:
            self._event("fault", "fault counters: "
                        + ", ".join(f"{c.code} x{c.count}" for c in counts))
        self.calibration = CalibrationSet()
        self.reload_calibration()
        if config.sequence.startup_request != "idle":  # the owner's standing wish: lowest rank
            self.claim(Source.USER, config.sequence.startup_request)

    # ----- requests (from the CLI, console or scenarios; applied at the next tick) -----------
    def claim(self, source: Source | str, mode: str | None = None, power_w: float | None = None,
              lease_s: float | None = None) -> Decision:
        """Claim a mode and/or a power limit for ``source`` (controller/dispatch/arbitration.py).

        A refused claim changes nothing; the decision says why and the event log records it.
        """
        now = self.clock.now()
        return self.arbiter.claim(Claim(Source.parse(source), mode, power_w, lease_s, now), now)

    def release(self, source: Source | str) -> bool:
        return self.arbiter.release(Source.parse(source), self.clock.now())

    def set_request(self, request: Request) -> Decision:
        """One requester's whole wish: a claim of its mode and power, with no lease."""
        return self.claim(request.source, request.mode, request.power_w)

    def _end_mode(self, mode: str, reason: str) -> None:
        """The mode machine stopped ``mode`` for a reason the requester must see (not a fault):
        the claim that asked for it is released, so it does not restart by itself."""
        source = self.resolution.mode_source
        self._event("refusal", f"{mode} stopped for {source}: {reason}")
        if self.resolution.mode == mode and source != "default":
            self.release(source)

    def _note_blocked(self) -> None:
        """Tell the requester, once per reason, why the requested mode is not starting."""
        reason = None
        if self.modes.current in (State.IDLE, State.EV_CONNECTED, State.SELFTEST):
            reason = self.modes.blocked_reason()
        if reason != self.blocked:
            self.blocked = reason
            if reason is not None:
                self._event("waiting", f"{self.request.mode} requested by {self.request.source} "
                            f"cannot start: {reason}")

    def request_reset(self, by: str = "operator") -> None:
        """Ask for a reset at the next tick, as ``by`` ("operator" or "technician"): an operator
        reset clears only faults an operator may clear (``controller/faults.py``)."""
        if by not in ROLES:
            raise ValueError(f"reset by {by!r}: must be one of {', '.join(ROLES)}")
        self._reset_requested = True
        self._reset_role = by

    def reload_calibration(self) -> None:
        """Load the stored calibrations (controller/store/calibration_store.py) and apply them
        from the next tick; a stored row that fails validation is logged and not applied."""
        loaded = CalibrationStore(self.store).load()
        self.calibration = loaded.calibrations
        channels = sorted(loaded.calibrations.channels)
        if channels:
            self._event("calibration", "applied: " + ", ".join(
                f"{c.channel} (gain {c.gain:.5f}, offset {c.offset:.4g}, {c.reference}, {c.date})"
                for c in (loaded.calibrations.channels[name] for name in channels)))
        for why in loaded.refused:
            self._event("calibration", f"refused: {why}")

    def request_contactor_test(self, name: str) -> tuple[bool, str]:
        """A technician's contactor test (controller/modes/service.py), run at the next tick if
        the mode machine still allows it then; returns (accepted, what happens or why not)."""
        why = refusal(name, self.modes.current, self.plan.is_safe(), self.request.mode,
                      self.last_snapshot, self.config.sequence,
                      self.config.protection.sensor_max_age_s)
        if why is not None:
            self._event("service", f"contactor test of {name} refused: {why}")
            return False, why
        self._contactor_test = name
        self._event("service", f"contactor test of {name} requested")
        return True, what_happens(name, self.plan.normally_closed(name))

    @property
    def healthy(self) -> bool:
        """The last tick completed without an error and within ``safety.loop.max_tick_s``
        (the systemd watchdog is petted and the hardware watchdog kicked only then)."""
        return self._consecutive_errors == 0 and not self._tick_overran

    @property
    def state(self) -> State:
        return self.modes.current

    # ----- the tick --------------------------------------------------------------------------
    def tick(self) -> None:
        """One control tick; never raises (an error forces the safe state)."""
        start, work_start = self.clock.now(), self.work_clock()
        try:
            self._tick()
            self._consecutive_errors = 0
        except Exception as err:  # the loop must survive anything and end safe
            self._consecutive_errors += 1
            self._internal_error(f"{type(err).__name__}: {err}")
            log.exception("control tick failed")
        self.ticks += 1
        # The loop clock sees what the plant lived through (a simulated I2C stall); the work
        # clock sees what the CPU and the I/O really cost (a CAN flood, a slow disk).
        self._account_tick(max(self.clock.now() - start, self.work_clock() - work_start))
        if self._history is not None:
            self._trim_history(self._history)

    def _account_tick(self, took: float) -> None:
        """Tick duration tracking (``took``: the longer of the loop clock's and the work
        clock's time); a healthy tick kicks the external hardware watchdog."""
        self.last_tick_s = took
        self.longest_tick_s = max(self.longest_tick_s, took)
        limit = self.config.safety.loop.max_tick_s
        self._tick_overran = took > limit
        if self._tick_overran:
            self.plan.safe()
            force_safe(self.hw, self.inverter)
            if self.modes.current not in LATCHED:
                self.modes.machine.set_state(State.FAULT.value, model=self.modes)
            self._latch_code("LOOP_OVERRUN", f"one control tick took {took:.3f} s "
                             f"(limit {limit} s)", took, limit)
        elif self.healthy and self.hw.watchdog is not None:
            try:
                self.hw.watchdog.toggle()
                self.kicks += 1
            except Exception:  # a dead kick output lets the hardware watchdog act: safe
                log.exception("watchdog kick failed")

    def _tick(self) -> None:
        now = self.clock.now()
        self.resolution = self.arbiter.resolve(now)
        self.request = self.resolution.as_request()
        snap = read_snapshot(self.hw, self.inverter, self.ev, self.inverter_settings, now,
                             calibration=self.calibration)
        self.inverter_settings.update(now)  # writes (re)sent from the loop only
        estimate = self.estimator.update(snap.meter) if snap.meter is not None else None
        energised = self.modes.current not in SAFE_STATES
        wanted = self.request.mode != "idle"
        commanded = self.last_dispatch.command.p_set_w if self.last_dispatch else 0.0
        self._track_closing(snap)
        result = self.protection.evaluate(
            snap, estimate, energised, wanted, commanded_w=commanded,
            following=self.plan.inverter_mode is InverterMode.GRID_FOLLOWING,
            told_off=self.plan.inverter_mode is InverterMode.OFF,
            export_wanted=self.request.mode == "v2g" or self.modes.export_permitted)
        self._latch(snap, result)
        test, self._contactor_test = self._contactor_test, None  # consumed, never pending
        self.modes.ctx = TickContext(snap, estimate, result, self.request, commanded,
                                     len(self._active_codes), self._reset_requested, test)
        self._step_modes(result)
        dispatch = self.dispatcher.update(self.modes.current, self.plan, self.request, snap,
                                          result.grid.ok, self.modes.export_permitted,
                                          estimate, result.grid.export_fraction)
        self._note_hot_open(snap)
        write_outputs(self.hw, self.plan, self.inverter, dispatch.command)
        self._note_blocked()
        if snap.inverter_bus != self._bus_state:
            self._event("can", f"inverter CAN bus {self._bus_state} -> {snap.inverter_bus}")
            self._bus_state = snap.inverter_bus
        self.last_snapshot, self.last_estimate = snap, estimate
        self.last_protection, self.last_dispatch = result, dispatch

    def _latch_code(self, code: str, detail: str, measured: float | None = None,
                    setting: float | None = None) -> None:
        """Latch one fault through the one trip path (``FaultManager.trip``, idempotent)."""
        now = self.clock.now()
        closed_for = None if self._closed_since is None else now - self._closed_since
        failed = len(self.faults.handler_failures)
        new = self.faults.trip(code, detail, now, self.clock.wall_time(), closed_for)
        if new is None:
            return
        self.trip_log.append(TripRecord(now, code, detail, measured, setting))
        kind = new.kind
        self._event("trip", f"{code}: {detail} - check {kind.check} [{kind.severity.value}, "
                    f"from {kind.origin.value}, clear: {kind.clear_by.value}; "
                    f"{self.faults.retry_note(code)}]", t=now)
        for failure in self.faults.handler_failures[failed:]:
            self._event("fault", f"trip handler failed ({code}): {failure}", t=now)

    def _trip_plan(self, new: Fault) -> None:
        if new.kind.severity is Severity.EMERGENCY:
            self.plan.safe()  # the veto, before anything else

    def _trip_outputs(self, new: Fault) -> None:
        if new.kind.severity is Severity.EMERGENCY:
            force_safe(self.hw, self.inverter)  # inverter off and coils dropped, now

    def _track_closing(self, snap: Snapshot) -> None:
        closed = any(v.commanded_closed for n, v in snap.contactors.items()
                     if n in POWER_CONTACTORS)
        if not closed:
            self._closed_since = None
        elif self._closed_since is None:
            self._closed_since = snap.t

    def _update_safety_claim(self, result: ProtectionResult) -> None:
        """The controller's own claim: idle while a STOP fault ramps down; a power ceiling
        while a temperature derates. Claimed only when it changes."""
        if self._shutting_down:
            return
        mode = "idle" if self._stop_since is not None else None
        power = None
        # Thermal derating, and the IEEE 1547 enter-service ramp after a return to service
        # (in steps of ENTER_SERVICE_STEP of the rating: one claim per step, not per tick).
        ramp = math.floor(result.grid.power_fraction / ENTER_SERVICE_STEP) * ENTER_SERVICE_STEP
        if result.grid.power_fraction >= 1.0 or self.modes.current in SAFE_STATES:
            self._seamless_return = False
        if self._seamless_return:
            ramp = 1.0  # the EV carried the home throughout: no step back to zero on the return
        fraction = min(result.power_fraction, ramp)
        if fraction < 1.0:
            power = self.config.inverter.rated_power_w * fraction
        if (mode, power) == self._safety_claim:
            return
        self._safety_claim = (mode, power)
        if mode is None and power is None:
            self.release(Source.SAFETY)
        else:
            self.claim(Source.SAFETY, mode, power)

    def _latch(self, snap: Snapshot, result: ProtectionResult) -> None:
        for trip in result.trips:
            self._latch_code(trip.code, trip.detail, trip.measured, trip.setting)
        if self._grid_was_ok and not result.grid.ok:
            self.trip_log.append(TripRecord(snap.t, "GRID_WINDOW", result.grid.reason))
            self._event("trip", f"GRID_WINDOW: {result.grid.reason} - power stops until the "
                        "grid is back inside its window", t=snap.t)
        self._grid_was_ok = result.grid.ok
        if any(CATALOGUE[t.code].severity is Severity.EMERGENCY for t in result.trips):
            self.plan.safe()  # the veto: before the mode machine even runs
        for warning in self.faults.new_warnings(result.warnings):
            self._event("warning", f"{warning.code}: {warning.detail} - check "
                        f"{CATALOGUE[warning.code].check}", t=snap.t)

    def _step_modes(self, result: ProtectionResult) -> None:
        codes: set[str] = {t.code for t in result.trips}
        reset, self._reset_requested = self._reset_requested, False  # consumed, never pending
        # A STOP the inverter reported needs no ramp: it has ceased already.
        emergency = any(CATALOGUE[c].severity is Severity.EMERGENCY
                        or CATALOGUE[c].origin is Origin.INVERTER for c in codes)
        if "ESTOP" in codes:
            self.modes.reason = "E-stop loop open"
            self.modes.fire("emergency_stop")
        elif emergency or (codes and not self._can_ramp() and not self._isolating(codes)):
            self.modes.reason = ", ".join(sorted(codes))
            self.modes.fire("trip")
        elif codes and self._stop_since is None:  # STOP: ramp down, open, then latch
            self._stop_since = self.clock.now()
            self._event("stop", f"graceful stop for {', '.join(sorted(codes))}: ramping down")
        self._finish_stop(codes)
        if reset:
            self._reset(codes, self._reset_role)
        elif self.modes.current is State.FAULT and self.faults.retry_due(
                self.clock.now(), codes, self._retry_evidence(result)):
            self._reset(codes, AUTO)
        if self.modes.ctx is not None:
            self._update_safety_claim(self.modes.ctx.protection)
        self.modes.fire("tick")

    def _isolating(self, codes: set[str]) -> bool:
        """An untrusted inverter while energised: the mode machine's ``stopping_isolate`` opens
        the AC side first and K_DC at low current (not everything at once)."""
        return bool(codes & UNTRUSTED_INVERTER) and self.modes.current not in SAFE_STATES

    def _retry_evidence(self, result: ProtectionResult) -> Callable[[str], bool]:
        """Per code: does this tick show its cause gone (protection/retry_evidence.py)."""
        ctx = self.modes.ctx
        if ctx is None:
            return lambda code: False
        observed = Observed(ctx.snapshot, result, self.config, not self._tick_overran)
        return lambda code: cause_gone(code, observed)

    def _can_ramp(self) -> bool:
        """A graceful stop needs a power command to ramp: grid-following and energised. A
        grid-forming inverter (v2l, backup) follows its load, so a STOP there ceases the
        inverter first and drops the coils in the same tick (no current left to break)."""
        return (self.modes.current not in SAFE_STATES
                and self.plan.inverter_mode is InverterMode.GRID_FOLLOWING)

    def _finish_stop(self, codes: set[str]) -> None:
        """A STOP fault ends in ``fault`` once the ramp-down reached a safe state, or at its
        deadline as an emergency."""
        if self._stop_since is None:
            return
        if self.modes.current in LATCHED:
            self._stop_since = None
            return
        late = self.clock.now() - self._stop_since > self.config.safety.loop.stop_deadline_s
        if self.modes.current in SAFE_STATES or late:
            if late:
                self.plan.safe()
                force_safe(self.hw, self.inverter)
            self.modes.reason = ", ".join(sorted(codes | self._active_codes)) + (
                " (stop deadline passed: opened at once)" if late else " (stopped)")
            self.modes.fire("trip")
            self._stop_since = None

    def _reset(self, codes: set[str], role: str = "operator") -> None:
        """A reset by ``role`` (operator, technician, or the automatic retry): refused (and
        forgotten) while any trip condition is present or a fault needs a higher role."""
        if self.modes.current not in LATCHED:
            self._event("reset", f"reset ignored: nothing latched (state {self.modes.state})")
            return
        if codes:
            self._event("reset", "reset refused: still present: " + ", ".join(sorted(codes)))
            return
        refusal = self.faults.refusal(role)
        if refusal is not None:
            self._event("reset", f"{role} reset refused: {refusal}")
            return
        if self.modes.ctx is not None:
            self.modes.ctx = dataclasses.replace(self.modes.ctx, reset_requested=True)
        self.modes.reason = "automatic retry" if role == AUTO else f"{role} reset"
        self.modes.fire("reset")
        if self.modes.current in LATCHED:
            self._event("reset", "reset refused by the mode machine")
            return
        retried = ", ".join(sorted(self._active_codes))
        cleared = self.faults.clear(role, self.clock.wall_time())
        if role == AUTO:
            self._event("retry", f"automatic retry: {retried} cleared after the back-off")
        if self.modes.ctx is not None:
            self.modes.ctx = dataclasses.replace(self.modes.ctx, latched_faults=0,
                                                 reset_requested=False)
        self._event("reset", f"latched faults cleared ({cleared})")

    def _trim_history(self, keep: int) -> None:
        for records in (self.transitions, self.trip_log, self.request_log, self.winner_log,
                        self.hot_opens):
            if len(records) > 2 * keep:  # amortised: one cut per ``keep`` new records
                del records[:-keep]

    # ----- loop control ----------------------------------------------------------------------
    def run(self, duration_s: float | None = None, stop: Callable[[], bool] = lambda: False,
            on_tick: Callable[[Supervisor], None] | None = None) -> None:
        """Tick at the configured rate until ``duration_s`` of clock time or ``stop()``."""
        period = self.config.control.tick_s
        start = self.clock.now()
        deadline = self.clock.now()
        while not stop() and (duration_s is None or self.clock.now() - start < duration_s - 1e-9):
            self.tick()
            if on_tick is not None:
                on_tick(self)
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
        which outranks every requester. ``on_tick`` runs after each tick, as in :meth:`run`."""
        start = self.clock.now()
        self._shutdown_cause = f"{requested_by} ({why})" if why else requested_by
        self._event("stop", f"stop requested by {self._shutdown_cause}: ramping the power to "
                    "zero, then opening every contactor")
        self._shutting_down = True
        self.claim(Source.SAFETY, "idle")  # outranks every requester; held until released
        limit = (self.config.sequence.rampdown_timeout_s
                 + 2 * self.config.sequence.contactor_timeout_s + 1.0)
        failure = ""
        try:
            self.run(stop=lambda: (self.modes.current in SAFE_STATES and self.plan.is_safe())
                     or self.clock.now() - start > limit, on_tick=on_tick)
        except RuntimeError as err:  # the loop kept failing; each failed tick forced outputs safe
            failure = f"{err}; "
        ramped = not failure and self.modes.current in SAFE_STATES and self.plan.is_safe()
        ramp_s = self.clock.now() - start
        force_safe(self.hw, self.inverter)
        dropped = self.clock.now()
        positions = self._await_de_energised(self.config.sequence.contactor_timeout_s)
        report = ShutdownReport(self._shutdown_cause, ramped, ramp_s, limit,
                                self.clock.now() - dropped, self.clock.now() - start,
                                positions, self.modes.state, failure)
        self._event("stop", report.details(), level=None if report.confirmed else logging.ERROR)
        self._event("shutdown", report.summary(),
                    level=None if report.confirmed else logging.ERROR)
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

    # ----- records ---------------------------------------------------------------------------
    def _event(self, kind: str, text: str, t: float | None = None,
               level: int | None = None) -> None:
        when = self.clock.now() if t is None else t
        self.store.record_event(when, self.clock.wall_time(), kind, text)
        log.log(event_level(kind) if level is None else level, "%s: %s", kind, text)

    def _on_arbitration(self, record: ArbitrationRecord | WinnerChange) -> None:
        if isinstance(record, WinnerChange):
            self.winner_log.append(record)
            self._event("winner", record.describe(), t=record.t)
        else:
            self.request_log.append(record)
            text = record.describe()
            if self._shutting_down and record.source == Source.SAFETY.value:  # who asked
                text = f"stop for {self._shutdown_cause}: " + text.replace(
                    "safety claims idle", "idle claimed above every other claim")
            self._event("request", text, t=record.t)

    def _note_hot_open(self, snap: Snapshot) -> None:
        """The controller's own hot-open record: K_DC was commanded closed and this tick
        commands it open while the DC current it knows (its own sensor, and a trusted fresh
        inverter status) is at or above ``sequence.open_below_current_a`` (or unknown).
        Stored (event kind ``hot_open``) and kept in ``hot_opens``; outside an emergency it is a
        defect the scenario verdicts and the invariant checker report (invariant 7)."""
        if not snap.contactors["dc"].commanded_closed or self.plan.contactors.get("dc", False):
            return
        limit = self.config.sequence.open_below_current_a
        current = snap.analog_value("dc_current_a", self.config.protection.sensor_max_age_s)
        # The ADC converts one channel per tick: a trusted, fresh inverter status that shows
        # its DC current gone (it ceased on its own trip) is the newer word.
        inv = snap.inverter
        trusted = (inv is not None and not self._active_codes & UNTRUSTED_INVERTER
                   and snap.inverter_age_s <= self.config.protection.inverter_status_timeout_s)
        readings = [abs(a) for a in (current, inv.dc_current_a if trusted and inv else None)
                    if a is not None]
        if readings and min(readings) < limit:
            return
        emergency = any(CATALOGUE[c].severity is Severity.EMERGENCY for c in self._active_codes)
        why = self.transitions[-1].reason if self.transitions else ""
        shown = "unknown" if current is None else f"{current:.1f} A"
        record = HotOpen(snap.t, emergency, current, self.modes.state,
                         f"K_DC commanded open at {shown} (limit {limit} A) in "
                         f"{self.modes.state}, {'an emergency' if emergency else 'no emergency'}"
                         + (f": {why}" if why else ""))
        self.hot_opens.append(record)
        self._event("hot_open", record.text, t=snap.t)

    def _on_transition(self, record: TransitionRecord) -> None:
        self.transitions.append(record)
        if record.source == State.BACKUP_RECONNECT.value:
            self._seamless_return = True
        why = f" ({record.reason})" if record.reason else ""
        self._event("state", f"{record.source} -> {record.dest} on {record.trigger}{why}",
                    t=record.t)

    def _internal_error(self, text: str) -> None:
        self.plan.safe()
        force_safe(self.hw, self.inverter)
        if self.modes.current not in LATCHED:
            self.modes.machine.set_state(State.FAULT.value, model=self.modes)
        self._latch_code("INTERNAL_ERROR", text)

    def status(self) -> Status:
        snap, est, disp = self.last_snapshot, self.last_estimate, self.last_dispatch
        meter = snap.meter if snap is not None else None
        inverter_w = None
        if snap is not None and snap.inverter is not None and snap.contactors["ac"].feedback_closed:
            inverter_w = snap.inverter.ac_power_w
        ev_w = None
        if snap is not None:
            age = self.config.protection.sensor_max_age_s
            v, i = snap.analog_value("dc_link_v", age), snap.analog_value("dc_current_a", age)
            if v is not None and i is not None:
                ev_w = v * i if snap.contactors["dc"].feedback_closed else 0.0
        home_w = None
        if meter is not None:
            home_w = meter.grid_power_w + meter.pv_power_w - (inverter_w or 0.0)
        grid = self.last_protection.grid if self.last_protection else None
        return Status(
            t=snap.t if snap else self.clock.now(), state=self.modes.state,
            request=self.request.mode, request_source=self.resolution.mode_source,
            power_limit_w=self.resolution.power_w, power_winner=self.resolution.power_source,
            grid_voltage_v=est.voltage_v if est else None,
            grid_frequency_hz=est.frequency_hz if est else None,
            grid_ok=grid.ok if grid else False, grid_reason=grid.reason if grid else "",
            ev_soc_pct=snap.ev.soc_pct if snap and snap.ev else None,
            grid_power_w=meter.grid_power_w if meter else None, home_power_w=home_w,
            ev_power_w=ev_w, pv_power_w=meter.pv_power_w if meter else None,
            commanded_power_w=disp.command.p_set_w if disp else 0.0,
            dispatch_note=disp.note if disp else "",
            faults=tuple(sorted(self._active_codes)),
            blocked=self.blocked,
            stopping=self._shutting_down,
        )
