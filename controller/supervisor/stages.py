"""The stages of one tick, in order, and what wraps them (the error path, liveness, records).

Each stage takes the values the stages before it produced and hands its own on as arguments:

    inputs -> Snapshot -> estimate -> GridEstimate -> protect(LastTick) -> ProtectionResult
    -> TickContext (built once) -> modes (fault stage, machine step) -> PlannedOutputs
    -> dispatch -> DispatchResult -> outputs (the only hardware writes) -> record -> watchdog

``self.stage`` names the stage running (tests record hardware writes per stage with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from controller.config.model import Config
from controller.dispatch.arbitration import (
    Arbiter,
    ArbitrationRecord,
    Claim,
    Resolution,
    Source,
    WinnerChange,
)
from controller.dispatch.dispatcher import Dispatcher, DispatchResult
from controller.ev.hooks import EvHooks
from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync
from controller.measurement.calibration import CalibrationSet
from controller.measurement.grid_estimator import GridEstimate, GridEstimator
from controller.modes.intents import TransitionRecord
from controller.modes.machine import TICK, ModeLogic
from controller.modes.plan import OutputPlan
from controller.modes.precharge_duty import PrechargeDuty
from controller.modes.requests import Request
from controller.modes.states import DE_ENERGISED, State
from controller.protection.protection import Protection, ProtectionResult
from controller.protection.trip import Trip
from controller.store.precharge_log import PrechargeLog
from controller.supervisor.fault_manager import FaultManager
from controller.supervisor.fault_stage import FaultStage
from controller.supervisor.hot_open import HotOpen, hot_open
from controller.supervisor.inputs import read_snapshot
from controller.supervisor.outputs import OutputStage
from controller.supervisor.recorder import Recorder
from controller.supervisor.trip_path import TripPath
from controller.values.context import LastTick, TickContext
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode
from hal.interfaces.clock import Clock
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_messages import InverterMode

log = logging.getLogger("v2x.supervisor")

STORE_FAULT = FaultCode.STORE_WRITE_FAILED
MAX_INTENT_ROUNDS = 4  # a trip fired for an intent may note another (an error in a callback)


class TickStages:
    """The tick of :class:`controller.supervisor.loop.Supervisor` (which provides these)."""

    config: Config
    clock: Clock
    work_clock: Callable[[], float]
    hw: Hardware
    inverter: InverterLink
    ev: EvLink
    ev_hooks: EvHooks
    inverter_settings: SettingsSync
    estimator: GridEstimator
    protection: Protection
    dispatcher: Dispatcher
    plan: OutputPlan
    modes: ModeLogic
    recorder: Recorder
    outputs: OutputStage
    faults: FaultManager
    trips: TripPath
    fault_stage: FaultStage
    arbiter: Arbiter
    resolution: Resolution
    request: Request
    calibration: CalibrationSet
    transitions: list[TransitionRecord]
    request_log: list[ArbitrationRecord]
    winner_log: list[WinnerChange]
    hot_opens: list[HotOpen]
    blocked: str | None
    precharge_duty: PrechargeDuty
    precharge_log: PrechargeLog
    _duty_held: str | None
    last_snapshot: Snapshot | None
    last_dispatch: DispatchResult | None
    last_estimate: GridEstimate | None
    last_protection: ProtectionResult | None
    last_tick: LastTick
    stage: str
    ticks: int
    kicks: int
    last_tick_s: float
    longest_tick_s: float
    _history: int | None
    _bus_state: str
    _contactor_test: str | None
    _consecutive_errors: int
    _tick_overran: bool
    _shutting_down: bool
    _safety_claim: tuple[str | None, float | None]

    _applying: bool

    # ----- the tick ----------------------------------------------------------------------------
    def tick(self) -> None:
        """One control tick; never raises (an error forces the safe state through the trip
        path, and the tick's events are still recorded)."""
        start, work_start = self.clock.now(), self.work_clock()
        self.recorder.hold()
        self.outputs.begin_tick()
        try:
            self._tick(self.last_tick)
            self._consecutive_errors = 0
        except Exception as err:  # the loop must survive anything and end safe
            self._consecutive_errors += 1
            log.exception("control tick failed")
            self._internal_error(f"{type(err).__name__}: {err}")
        self.stage = "outputs"
        self.outputs.end_tick()  # an aborted tick's forced safe state, if it asked for one
        self.stage = "record"
        self.recorder.flush()
        self.ticks += 1
        # The loop clock sees what the plant lived through (a simulated I2C stall); the work
        # clock sees what the CPU and the I/O really cost (a CAN flood, a slow disk).
        self._account_tick(max(self.clock.now() - start, self.work_clock() - work_start))
        self.last_tick = LastTick(
            self.last_dispatch.command.p_set_w if self.last_dispatch else 0.0,
            self.plan.inverter_mode, self.modes.current not in DE_ENERGISED,
            self.modes.export_permitted)
        if self._history is not None:
            self._trim_history(self._history)
        self.stage = "idle"

    def _tick(self, last: LastTick) -> None:
        now = self.clock.now()
        resolution = self.arbiter.resolve(now)
        if resolution is not self.resolution:  # the same object while the claims hold
            self.resolution, self.request = resolution, resolution.as_request()
        request = self.request
        # A start beyond the precharge resistor's duty waits: the machine and the EV session
        # see no request for energy meanwhile (controller/modes/precharge_duty.py).
        request, self._duty_held = self.precharge_duty.hold(request, self.modes.current, now)
        self.stage = "inputs"
        snap = read_snapshot(self.hw, self.inverter, self.ev, self.inverter_settings, now,
                             calibration=self.calibration)
        self.stage = "estimate"
        estimate = self.estimator.update(snap.meter) if snap.meter is not None else None
        self.stage = "protect"
        result = self.protection.evaluate(
            snap, estimate, last.energised, request.mode != "idle",
            commanded_w=last.commanded_power_w,
            following=last.inverter_mode is InverterMode.GRID_FOLLOWING,
            told_off=last.inverter_mode is InverterMode.OFF,
            export_wanted=request.mode == "v2g" or last.export_permitted)
        self.stage = "modes"
        ev_trips, ev_gate = self.ev_hooks.observe(snap, self.modes.current, request, result,
                                                  estimate)  # EV link: its faults, its gate
        store_failure = self.recorder.take_failure()
        trips = [*result.trips, *ev_trips] if store_failure is None else [
            *result.trips, *ev_trips,
            Trip(STORE_FAULT, f"the state store failed: {store_failure}")]
        codes: set[str] = {t.code for t in trips}
        test, self._contactor_test = self._contactor_test, None  # consumed, never pending
        latched = len(self.faults.codes | codes) if codes else len(self.faults.codes)
        ctx = TickContext(snap, estimate, result, request, last.commanded_power_w, latched, test,
                          ev_gate)
        self.modes.observe(ctx)  # the machine's step begins: its timers advance once
        self.fault_stage.latch(ctx, trips)
        self.fault_stage.react(ctx, codes, loop_ok=not self._tick_overran)
        if not self._shutting_down:
            wanted = self.fault_stage.safety_claim(result)
            if wanted != self._safety_claim:
                self._claim_for_safety(wanted)
        self.modes.fire(TICK)  # the table's sequence, on this tick's context
        if self.modes.pending:
            self._apply_pending()
        plan = self.plan.frozen()  # what the modes stage decided, handed on as a value
        self.stage = "dispatch"
        dispatch = self.dispatcher.update(self.modes.current, plan, request,
                                          self.ev_hooks.dispatch_snapshot(snap),  # EV link
                                          result.grid.ok, self.modes.export_permitted,
                                          estimate, result.grid.export_fraction)
        opened = hot_open(snap, plan, self.config, self.faults.codes, self.modes.state,
                          self.transitions[-1].reason if self.transitions else "")
        if opened is not None:
            self.hot_opens.append(opened)
            self.recorder.event("hot_open", opened.text, t=snap.t)
        self.stage = "outputs"
        self.outputs.write(plan, dispatch.command, now)
        self.ev_hooks.write(now, self._end_mode, request.mode)  # EV link: d1/d2/lock, frames
        self.stage = "record"
        self._note_blocked()
        if snap.inverter_bus != self._bus_state:
            self.recorder.event("can", f"inverter CAN bus {self._bus_state} -> "
                                f"{snap.inverter_bus}")
            self._bus_state = snap.inverter_bus
        self.last_snapshot, self.last_estimate = snap, estimate
        self.last_protection, self.last_dispatch = result, dispatch

    def _apply_pending(self) -> None:
        """Act on what the mode machine asked for, as soon as a trigger returns: faults through
        the trip path (whose ``trip`` may add intents of its own: taken in the next round),
        then records, then releases. Reentrant calls return at once."""
        if self._applying:
            return
        self._applying = True
        try:
            for _ in range(MAX_INTENT_ROUNDS):
                intents = self.modes.take()
                if not intents:
                    return
                for fault in intents.faults:
                    self.trips.trip(fault.code, fault.detail, trigger="trip", reason=fault.code)
                for record in intents.transitions:
                    self._record_transition(record)
                for refused in intents.refusals:
                    self._end_mode(refused.mode, refused.reason)
        finally:
            self._applying = False

    def _record_transition(self, record: TransitionRecord) -> None:
        self.transitions.append(record)
        if record.dest == State.STARTING_PRECHARGE.value:
            self.precharge_duty.record(record.t)
            wall = self.clock.wall_time() - (self.clock.now() - record.t)
            failed = self.precharge_log.record(wall)  # kept across a restart
            if failed is not None:  # STORE_WRITE_FAILED at the next tick, as any record
                self.recorder.store_failed(failed)
        if record.source == State.BACKUP_RECONNECT.value:
            self.fault_stage.seamless_return = True
        why = f" ({record.reason})" if record.reason else ""
        self.recorder.event("state", f"{record.source} -> {record.dest} on {record.trigger}{why}",
                            t=record.t)

    def _end_mode(self, mode: str, reason: str) -> None:
        """The mode machine stopped ``mode`` for a reason the requester must see (not a fault):
        the claim that asked for it is released, so it does not restart by itself."""
        source = self.resolution.mode_source
        self.recorder.event("refusal", f"{mode} stopped for {source}: {reason}")
        if self.resolution.mode == mode and source != "default":
            self.arbiter.release(Source.parse(source), self.clock.now())

    def _claim_for_safety(self, wanted: tuple[str | None, float | None]) -> None:
        """The controller's own claim (``FaultStage.safety_claim``), when it has changed."""
        self._safety_claim = wanted
        mode, power = wanted
        now = self.clock.now()
        if mode is None and power is None:
            self.arbiter.release(Source.SAFETY, now)
        else:
            self.arbiter.claim(Claim(Source.SAFETY, mode, power, None, now), now)

    def _note_blocked(self) -> None:
        """Tell the requester, once per reason, why the requested mode is not starting."""
        reason = None
        if self.modes.current in (State.IDLE, State.EV_CONNECTED, State.SELFTEST):
            reason = self._duty_held or self.modes.blocked_reason()
        if reason != self.blocked:
            self.blocked = reason
            if reason is not None:
                self.recorder.event("waiting", f"{self.request.mode} requested by "
                                    f"{self.request.source} cannot start: {reason}")

    # ----- what wraps the stages -------------------------------------------------------------
    def _internal_error(self, text: str) -> None:
        self.trips.trip("INTERNAL_ERROR", text, trigger="trip", reason="INTERNAL_ERROR",
                        force=True)

    def _account_tick(self, took: float) -> None:
        """Tick duration tracking (``took``: the longer of the loop clock's and the work
        clock's time); a healthy tick kicks the external hardware watchdog."""
        self.last_tick_s = took
        self.longest_tick_s = max(self.longest_tick_s, took)
        limit = self.config.safety.loop.max_tick_s
        self._tick_overran = took > limit
        if self._tick_overran:
            self.stage = "outputs"  # the forced safe state is the output stage's write
            self.trips.trip("LOOP_OVERRUN", f"one control tick took {took:.3f} s (limit "
                            f"{limit} s)", took, limit, trigger="trip", reason="LOOP_OVERRUN",
                            force=True)
            self.recorder.flush()
        elif self.healthy and self.hw.watchdog is not None:
            self.stage = "watchdog"
            if self.outputs.kick_watchdog():
                self.kicks += 1
            else:
                log.error("watchdog kick failed")

    @property
    def healthy(self) -> bool:
        """The last tick completed without an error and within ``safety.loop.max_tick_s``
        (the systemd watchdog is petted and the hardware watchdog kicked only then)."""
        return self._consecutive_errors == 0 and not self._tick_overran

    def _trim_history(self, keep: int) -> None:
        for records in (self.transitions, self.trips.log, self.request_log, self.winner_log,
                        self.hot_opens):
            if len(records) > 2 * keep:  # amortised: one cut per ``keep`` new records
                del records[:-keep]
