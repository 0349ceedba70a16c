"""The supervisor: one single-threaded loop on an injected clock.

One tick is a one-way pipeline of frozen values (docs/architecture.md, "The tick"):
inputs -> snapshot -> estimate -> protect -> modes -> dispatch -> outputs -> record, and last the
watchdog kick of a healthy tick. Only the output stage writes hardware (``outputs.py``). Every
fault and every forced safe state goes through the one trip path (``trip_path.py``); the events
of a tick are written once, at its end (``recorder.py``). ``tick()`` never raises: an error
anywhere in a tick latches INTERNAL_ERROR through the trip path, and a failing store is itself
a fault (STORE_WRITE_FAILED), never the loop's end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

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
from controller.ev.hooks import EvHooks
from controller.faults import ROLES
from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync, inverter_settings_from_config
from controller.measurement.calibration import CalibrationSet
from controller.measurement.grid_estimator import GridEstimate, GridEstimator
from controller.modes.intents import TransitionRecord
from controller.modes.machine import ModeLogic
from controller.modes.plan import OutputPlan
from controller.modes.precharge_duty import PrechargeDuty
from controller.modes.requests import Request
from controller.modes.service import refusal, what_happens
from controller.modes.states import DE_ENERGISED, State
from controller.protection.protection import Protection, ProtectionResult
from controller.store.precharge_log import PrechargeLog
from controller.store.state_store import StateStore
from controller.supervisor.duty_restart import seed_precharge_duty
from controller.supervisor.fault_manager import FaultManager
from controller.supervisor.fault_stage import FaultStage
from controller.supervisor.hot_open import HotOpen
from controller.supervisor.lifecycle import Lifecycle
from controller.supervisor.outputs import OutputStage
from controller.supervisor.recorder import Recorder
from controller.supervisor.status_view import status_of
from controller.supervisor.trip_path import TripPath, TripRecord
from controller.values.context import FIRST_TICK, LastTick
from controller.values.snapshot import Snapshot
from controller.values.status import Status
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_codec import InverterCodec

log = logging.getLogger("v2x.supervisor")

SAFE_STATES = DE_ENERGISED  # nothing energised in these (controller/modes/states.py)


class Supervisor(Lifecycle):
    """Owns the control loop and everything it ties together."""

    def __init__(self, config: Config, hardware: Hardware, store: StateStore,
                 history: int | None = None,
                 work_clock: Callable[[], float] | None = None) -> None:
        """``history``: keep at least this many of the newest records in each in-memory log
        (transitions, trips, requests, winners, hot opens) and at most twice as many; None
        keeps all (a scenario's report needs all of them; the daemon bounds them, the event
        log in the store keeps everything).

        ``work_clock``: the real (monotonic) clock a tick's work is timed on, beside the loop
        clock (``hardware.clock``, virtual on the simulator); a tick took the longer of the two.
        None: ``time.monotonic``. Tests inject a fake one; the scenario runner, run flat out,
        passes the loop clock (its reports must be reproducible)."""
        self.config = config
        self.work_clock = work_clock if work_clock is not None else time.monotonic
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
        self.plan = OutputPlan({n: c.normally_closed for n, c in hardware.contactors.items()})
        self.modes = ModeLogic(config, self.plan)
        self.recorder = Recorder(store, self.clock)
        self.ev_hooks = EvHooks(config, hardware, self.ev, self.recorder.event)  # EV link
        self.outputs = OutputStage(hardware, self.inverter, self.inverter_settings)
        self.faults = FaultManager(store, config.safety.retry, [])
        self.faults.handlers = self.faults.store_handlers()
        self.trips = TripPath(self.faults, self.plan, self.outputs, self.modes, self.recorder,
                              self.clock)
        self.fault_stage = FaultStage(config, self.faults, self.trips, self.modes, self.plan,
                                      self.recorder, self.clock)
        self.trips.after_fire = self._apply_pending  # a trigger's records, in order
        self.hot_opens: list[HotOpen] = []  # the controller's own record (hot_open.py)
        self.arbiter = Arbiter(listener=self._on_arbitration)
        self.request_log: list[ArbitrationRecord] = []  # every claim, refusal, release, expiry
        self.winner_log: list[WinnerChange] = []  # every change of a field's winner or value
        self.resolution = Resolution()  # resolved at the start of every tick
        self.request = self.resolution.as_request()
        self.transitions: list[TransitionRecord] = []
        self.blocked: str | None = None  # why the requested mode cannot start, if it cannot
        self.precharge_duty = PrechargeDuty(config.sequence.precharge_max_starts,
                                            config.sequence.precharge_window_s)
        self.precharge_log = PrechargeLog(store)  # the duty's memory across a restart
        self._duty_held: str | None = None  # why this tick's request for energy waits
        self._bus_state = "error-active"
        self.last_snapshot: Snapshot | None = None
        self.last_dispatch: DispatchResult | None = None
        self.last_estimate: GridEstimate | None = None
        self.last_protection: ProtectionResult | None = None
        self.last_tick: LastTick = FIRST_TICK  # what protection judges the next tick against
        self.stage = "idle"  # the tick's stage now running ("idle" between ticks)
        self.ticks = 0
        self.overruns = 0
        self._contactor_test: str | None = None
        self._consecutive_errors = 0
        self._applying = False  # acting on the mode machine's intents (stages.py)
        self._safety_claim: tuple[str | None, float | None] = (None, None)
        self._shutting_down = False
        self._shutdown_cause = ""  # who asked for the shutdown (the log names them)
        self.last_tick_s = 0.0  # the last tick's duration: max(loop clock, work clock)
        self.longest_tick_s = 0.0
        self._tick_overran = False
        self.kicks = 0  # hardware watchdog edges sent (one per healthy tick)
        self._started(hardware.description)
        seeded = seed_precharge_duty(self.precharge_duty, self.precharge_log, self.clock)
        if seeded is not None:
            self.recorder.event(seeded.kind, seeded.text)
        self.calibration = CalibrationSet()
        self.reload_calibration()
        if config.sequence.startup_request != "idle":  # the owner's standing wish: lowest rank
            self.claim(Source.USER, config.sequence.startup_request)

    @property
    def trip_log(self) -> list[TripRecord]:
        return self.trips.log

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

    def request_reset(self, by: str = "operator") -> None:
        """Ask for a reset at the next tick, as ``by`` ("operator" or "technician"): an operator
        reset clears only faults an operator may clear (``controller/faults.py``)."""
        if by not in ROLES:
            raise ValueError(f"reset by {by!r}: must be one of {', '.join(ROLES)}")
        self.fault_stage.reset_role = by

    def request_contactor_test(self, name: str) -> tuple[bool, str]:
        """A technician's contactor test (controller/modes/service.py), run at the next tick if
        the mode machine still allows it then; returns (accepted, what happens or why not)."""
        why = refusal(name, self.modes.current, self.plan.is_safe(), self.request.mode,
                      self.last_snapshot, self.config.sequence,
                      self.config.protection.sensor_max_age_s)
        if why is not None:
            self.recorder.event("service", f"contactor test of {name} refused: {why}")
            return False, why
        self._contactor_test = name
        self.recorder.event("service", f"contactor test of {name} requested")
        return True, what_happens(name, self.plan.normally_closed(name))

    @property
    def state(self) -> State:
        return self.modes.current

    def status(self) -> Status:
        return status_of(self.config, self.clock.now(), self.modes.state, self.resolution,
                         self.last_snapshot, self.last_estimate, self.last_dispatch,
                         self.last_protection, self.faults.codes, self.blocked,
                         self._shutting_down, self.ev_hooks.session.phase,
                         self.ev_hooks.session.plug_soc_pct)

    # ----- records ---------------------------------------------------------------------------
    def _on_arbitration(self, record: ArbitrationRecord | WinnerChange) -> None:
        if isinstance(record, WinnerChange):
            self.winner_log.append(record)
            self.recorder.event("winner", record.describe(), t=record.t)
        else:
            self.request_log.append(record)
            text = record.describe()
            if self._shutting_down and record.source == Source.SAFETY.value:  # who asked
                text = f"stop for {self._shutdown_cause}: " + text.replace(
                    "safety claims idle", "idle claimed above every other claim")
            self.recorder.event("request", text, t=record.t)
