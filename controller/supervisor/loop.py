"""The supervisor: one single-threaded loop on an injected clock.

One tick, in order: read inputs into a snapshot -> estimate -> protect -> step the mode machine
-> dispatch -> write outputs -> record. A trip forces the safe plan before the mode machine runs;
an exception anywhere in a tick forces the outputs safe and latches INTERNAL_ERROR.
"""

from __future__ import annotations

import dataclasses
import logging
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
from controller.faults import CATALOGUE, Severity
from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync, inverter_settings_from_config
from controller.measurement.grid_estimator import GridEstimate, GridEstimator
from controller.modes.context import TickContext
from controller.modes.machine import ModeLogic, TransitionRecord
from controller.modes.plan import OutputPlan
from controller.modes.requests import Request
from controller.modes.states import LATCHED, State
from controller.protection.protection import Protection, ProtectionResult
from controller.store.state_store import StateStore
from controller.supervisor.inputs import read_snapshot
from controller.supervisor.outputs import force_safe, write_outputs
from controller.supervisor.snapshot import Snapshot
from controller.supervisor.status import Status
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_codec import InverterCodec

log = logging.getLogger("v2x.supervisor")

MAX_CONSECUTIVE_ERRORS = 10


@dataclass(frozen=True, slots=True)
class TripRecord:
    """One protection trip as the report shows it."""

    t: float
    function: str
    detail: str
    measured: float | None = None
    setting: float | None = None


SAFE_STATES = frozenset({State.IDLE, State.SELFTEST, State.FAULT, State.ESTOP})


class Supervisor:
    """Owns the control loop and everything it ties together."""

    def __init__(self, config: Config, hardware: Hardware, store: StateStore) -> None:
        self.config = config
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
        self._consecutive_errors = 0
        self._active_codes: set[str] = {f.code for f in store.active_faults()}
        self._event("start", f"controller started on {hardware.description}")
        self._event("settings", "inverter settings to write: "
                    + self.inverter_settings.describe_desired())
        if self._active_codes:
            self._event("fault", "latched faults from before the restart: "
                        + ", ".join(sorted(self._active_codes)))
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
        if self.modes.current in (State.IDLE, State.SELFTEST):
            reason = self.modes.blocked_reason()
        if reason != self.blocked:
            self.blocked = reason
            if reason is not None:
                self._event("waiting", f"{self.request.mode} requested by {self.request.source} "
                            f"cannot start: {reason}")

    def request_reset(self) -> None:
        self._reset_requested = True

    @property
    def healthy(self) -> bool:
        """The last tick completed without an error (the systemd watchdog is petted only then)."""
        return self._consecutive_errors == 0

    @property
    def state(self) -> State:
        return self.modes.current

    # ----- the tick --------------------------------------------------------------------------
    def tick(self) -> None:
        """One control tick; never raises (an error forces the safe state)."""
        try:
            self._tick()
            self._consecutive_errors = 0
        except Exception as err:  # the loop must survive anything and end safe
            self._consecutive_errors += 1
            self._internal_error(f"{type(err).__name__}: {err}")
            log.exception("control tick failed")
        self.ticks += 1

    def _tick(self) -> None:
        now = self.clock.now()
        self.resolution = self.arbiter.resolve(now)
        self.request = self.resolution.as_request()
        snap = read_snapshot(self.hw, self.inverter, self.ev, self.inverter_settings, now)
        self.inverter_settings.update(now)  # writes (re)sent from the loop only
        estimate = self.estimator.update(snap.meter) if snap.meter is not None else None
        energised = self.modes.current not in SAFE_STATES
        wanted = self.request.mode != "idle"
        result = self.protection.evaluate(snap, estimate, energised, wanted)
        self._latch(snap, result)
        commanded = self.last_dispatch.command.p_set_w if self.last_dispatch else 0.0
        self.modes.ctx = TickContext(snap, estimate, result, self.request, commanded,
                                     len(self._active_codes), self._reset_requested)
        self._step_modes(result)
        dispatch = self.dispatcher.update(self.modes.current, self.plan, self.request, snap,
                                          result.grid.ok, self.modes.export_permitted)
        write_outputs(self.hw, self.plan, self.inverter, dispatch.command)
        self._note_blocked()
        if snap.inverter_bus != self._bus_state:
            self._event("can", f"inverter CAN bus {self._bus_state} -> {snap.inverter_bus}")
            self._bus_state = snap.inverter_bus
        self.last_snapshot, self.last_estimate = snap, estimate
        self.last_protection, self.last_dispatch = result, dispatch

    def _latch_code(self, code: str, detail: str, measured: float | None = None,
                    setting: float | None = None) -> None:
        """Latch one fault (once while active): store it, log it with what to check."""
        if code in self._active_codes:
            return
        self._active_codes.add(code)
        now = self.clock.now()
        self.trip_log.append(TripRecord(now, code, detail, measured, setting))
        self.store.latch_fault(code, detail, self.clock.wall_time())
        self._event("trip", f"{code}: {detail} - check {CATALOGUE[code].check}", t=now)

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

    def _step_modes(self, result: ProtectionResult) -> None:
        codes = {t.code for t in result.trips}
        reset, self._reset_requested = self._reset_requested, False  # consumed, never pending
        if "ESTOP" in codes:
            self.modes.reason = "E-stop loop open"
            self.modes.fire("emergency_stop")
        elif result.trips:
            self.modes.reason = ", ".join(sorted(codes))
            self.modes.fire("trip")
        if reset:
            self._reset(codes)
        self.modes.fire("tick")

    def _reset(self, codes: set[str]) -> None:
        """An explicit reset: refused (and forgotten) while any trip condition is present."""
        if self.modes.current not in LATCHED:
            self._event("reset", f"reset ignored: nothing latched (state {self.modes.state})")
            return
        if codes:
            self._event("reset", "reset refused: still present: " + ", ".join(sorted(codes)))
            return
        self.modes.reason = "reset requested"
        self.modes.fire("reset")
        if self.modes.current in LATCHED:
            self._event("reset", "reset refused by the mode machine")
            return
        cleared = self.store.clear_faults(self.clock.wall_time())
        self._active_codes.clear()
        if self.modes.ctx is not None:
            self.modes.ctx = dataclasses.replace(self.modes.ctx, latched_faults=0,
                                                 reset_requested=False)
        self._event("reset", f"latched faults cleared ({cleared})")

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
            self.clock.sleep_until(deadline)

    def shutdown(self) -> bool:
        """Ramp to zero, open every contactor, confirm; returns True when confirmed in time."""
        self.claim(Source.SAFETY, "idle")  # outranks every requester; held until released
        limit = (self.config.sequence.rampdown_timeout_s
                 + 2 * self.config.sequence.contactor_timeout_s + 1.0)
        start = self.clock.now()
        self.run(stop=lambda: (self.modes.current in SAFE_STATES and self.plan.is_safe())
                 or self.clock.now() - start > limit)
        confirmed = self.modes.current in SAFE_STATES and self.plan.is_safe()
        force_safe(self.hw, self.inverter)
        open_now = [n for n, c in self.hw.contactors.items()
                    if c.feedback_closed is not None and c.feedback_closed != c.normally_closed]
        text = ("safe shutdown: power ramped to zero, contactors open, inverter off"
                if confirmed and not open_now else
                f"shutdown forced after {limit:.1f} s: outputs dropped; still closed: {open_now}")
        self._event("shutdown", text)
        return confirmed

    # ----- records ---------------------------------------------------------------------------
    def _event(self, kind: str, text: str, t: float | None = None) -> None:
        when = self.clock.now() if t is None else t
        self.store.record_event(when, self.clock.wall_time(), kind, text)
        log.info("%s: %s", kind, text)

    def _on_arbitration(self, record: ArbitrationRecord | WinnerChange) -> None:
        if isinstance(record, WinnerChange):
            self.winner_log.append(record)
            self._event("winner", record.describe(), t=record.t)
        else:
            self.request_log.append(record)
            self._event("request", record.describe(), t=record.t)

    def _on_transition(self, record: TransitionRecord) -> None:
        self.transitions.append(record)
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
        )
