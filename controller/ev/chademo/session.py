"""The charger side of a CHAdeMO session: a sub-machine stepped once per control tick.

plug (proximity) -> d1 -> parameter exchange and compatibility -> switch k and 102.5.0 -> lock
-> [the mode machine's weld check and insulation test] -> d2 -> the EV closes its contactors ->
[precharge, K_DC, K_AC] -> transfer -> stop -> current below 5 A -> the EV opens its contactors
-> [K_DC opens, weld check] -> output below 10 V -> unlock -> d1 off. Every wait has its deadline
and a named fault (``phases.py``); the sources of the numbers are in docs/ev-link.md.

The session never switches a contactor: it tells the mode machine whether it may start
(``startable``) and keep going (``transfer_allowed``), reports faults to the loop (the one trip
path latches them), and drives only its own signals (d1, d2, lock) and frames.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

from controller.config.ev_settings import EvSettings
from controller.ev.chademo import phases as ph
from controller.ev.chademo.checks import (
    DeviationTimer,
    discharge_floor,
    reported_faults,
    voltage_outside,
)
from controller.ev.chademo.frames import build_frames
from controller.ev.chademo.phases import Phase
from controller.ev.link import EvTrip, HostView, Stage
from hal.interfaces.digital_output import DigitalOutput
from hal.protocols.chademo_charger import ChargerCodec
from hal.protocols.ev_messages import EvReport

PARAMS_SETTLE_S = 0.3  # the vehicle's limits unchanged this long: past its placeholders
CHADEMO_CYCLE_S = 0.1
END_FRAMES_S = 0.25  # frames with the stop (and 109.5.3) go out before d1 drops
D1, D2, LOCK = "ev_d1", "ev_d2", "ev_lock"


class ChademoSession:
    """One connector's sessions, one after another. ``send`` puts a frame on the EV bus."""

    def __init__(self, settings: EvSettings, outputs: Mapping[str, DigitalOutput],
                 send: Callable[[int, bytes], None], codec: ChargerCodec | None = None) -> None:
        self._s = settings
        self._outputs = outputs
        self._send = send
        self._codec = codec if codec is not None else ChargerCodec()
        self._phase = Phase.UNPLUGGED
        self._phase_name = self._phase.value  # what ``phase`` returns, kept with ``_phase``
        # Each phase's handler, looked up once (``step`` runs every tick):
        self._handlers: dict[Phase, Callable[[HostView, list[EvTrip]], None]] = {
            phase: getattr(self, f"_in_{phase.value}") for phase in Phase}
        self._since = 0.0
        self._view: HostView | None = None
        self._ending: str | None = None
        self._ending_out: str | None = None
        self._d1 = self._d2 = self._lock = False
        self._params: tuple[float, float] | None = None
        self._params_since = 0.0
        self._incompatible = False
        self._discharge = False  # discharge agreed: 0x208/0x209 and 109.4
        self._discharge_seen = False  # the EV's discharge limit was positive this session
        self._closed_at: float | None = None
        self._charging_flag = False
        self._deviation = DeviationTimer(settings)
        self._next_frame = 0.0
        self._latched: set[str] = set()  # faults already reported this session
        self._restart = False  # the charger stopped: back to plugged, not ended
        self._heard = False  # the vehicle spoke this session
        self._was_charging = False  # 109.5.0 was set this session
        self._requested = False  # the vehicle asked for current since its contactors closed
        self._unlocked_at: float | None = None  # unlocked; d1 drops END_FRAMES_S later
        self._reading_soc = False  # this exchange only reads the SoC (ev.soc_on_plug)
        self._settled = False  # this session's limits settled (past the placeholder frames)
        self._soc_read_tried = False  # once per plug-in
        self._plug_soc_pct: float | None = None  # the SoC last reported since plug-in

    # ----- what the core reads ---------------------------------------------------------------
    @property
    def phase(self) -> str:
        return self._phase_name

    @property
    def startable(self) -> bool:
        return self._phase in ph.STARTABLE

    @property
    def transfer_allowed(self) -> bool:
        return self._phase in ph.STARTABLE

    @property
    def contactors_closed_at(self) -> float | None:
        return self._closed_at if self._phase is Phase.TRANSFER else None

    @property
    def ending(self) -> str | None:
        return self._ending

    @property
    def plug_soc_pct(self) -> float | None:
        return self._plug_soc_pct

    @property
    def in_session(self) -> bool:
        return self._phase in ph.SESSION_PHASES

    def blocked_reason(self) -> str | None:
        """Only an ended session refuses; the phases before ready are progress, not refusal."""
        if self._phase is Phase.ENDED and self._ending is not None:
            return f"EV session ended ({self._ending}); request again or re-plug"
        return None

    def dispatch_report(self, report: EvReport | None) -> EvReport | None:
        if report is None or self._phase is Phase.TRANSFER:
            return report
        return dataclasses.replace(report, charge_current_request_a=0.0,
                                   max_discharge_current_a=0.0)

    def take_ending(self) -> str | None:
        ending, self._ending_out = self._ending_out, None
        return ending

    # ----- one tick --------------------------------------------------------------------------
    def step(self, view: HostView) -> list[EvTrip]:
        self._view = view
        trips: list[EvTrip] = []
        if not view.proximity:
            if self._phase in ph.LIVE_PHASES or (view.current_a is not None
                                                 and abs(view.current_a) > self._s.stop_current_a):
                trips.append(EvTrip(ph.EV_PROXIMITY_LOST, f"connector proximity lost in "
                                    f"phase {self._phase.value}"))
            self._go(Phase.UNPLUGGED, view.now)
            return trips
        if view.report is not None and self._phase in ph.SESSION_PHASES:
            self._heard = True
            if self._settled:  # past the placeholders: its SoC is the car's
                self._plug_soc_pct = view.report.soc_pct
        self._handlers[self._phase](view, trips)
        return trips

    def _go(self, phase: Phase, now: float) -> None:
        self._phase = phase
        self._phase_name = phase.value
        self._since = now
        if phase in (Phase.UNPLUGGED, Phase.PLUGGED, Phase.ENDED):
            self._d1 = self._d2 = False
            self._discharge = self._discharge_seen = False
            self._params = None
            self._closed_at = None
            self._charging_flag = self._was_charging = self._requested = False
            self._heard = self._settled = False
            self._latched.clear()
        if phase is Phase.UNPLUGGED:
            self._lock = False
            self._incompatible = False
            self._ending = None
            self._soc_read_tried = False
            self._plug_soc_pct = None
        if phase is not Phase.EXCHANGE:
            self._reading_soc = False

    def _elapsed(self, now: float) -> float:
        return now - self._since

    def _stop(self, view: HostView, ending: str) -> None:
        """The vehicle's or a fault's ending: the request that started it is released."""
        self._restart = False
        self._end(view, ending)
        self._ending_out = ending

    def _charger_stop(self, view: HostView) -> None:
        """The charger's own stop (request, trip, interlock): the request stays, and the session
        starts again once the charger wants energy and may (no release, no ENDED)."""
        self._restart = True
        self._end(view, ph.END_CHARGER)

    def _end(self, view: HostView, ending: str) -> None:
        """End the session from wherever it is, the safe way for that phase (a latched fault
        has dropped every coil: d2 drops too, telling the vehicle to open at once)."""
        if view.stage is Stage.LATCHED:
            self._d2 = False
        self._ending = ending
        if self._phase in ph.LIVE_PHASES:
            self._charging_flag = False
            if self._phase is not Phase.STOPPING:
                self._go(Phase.STOPPING, view.now)
            return
        self._d2 = False
        self._go(Phase.UNLOCKING, view.now)

    def _in_unplugged(self, view: HostView, trips: list[EvTrip]) -> None:
        self._go(Phase.PLUGGED, view.now)

    def _in_plugged(self, view: HostView, trips: list[EvTrip]) -> None:
        # EV_CLOSE too: a cold start for backup runs its weld check and insulation test while
        # the session (re)starts, and waits for its d2 with nothing energised.
        if view.wants_energy and view.stage in (Stage.DE_ENERGISED, Stage.STARTING,
                                                Stage.EV_CLOSE):
            self._go(Phase.EXCHANGE, view.now)
            self._ending = None
            self._d1 = True
        elif (self._s.soc_on_plug and not self._soc_read_tried
              and view.stage is Stage.DE_ENERGISED):
            self._soc_read_tried = True
            self._go(Phase.EXCHANGE, view.now)
            self._reading_soc = True
            self._d1 = True

    def _end_soc_read(self, view: HostView, ending: str) -> None:
        """The SoC read on plug-in is over: d1 off the safe way (nothing was locked or closed),
        back to plugged, no fault and no request to release."""
        self._restart = True
        self._end(view, ending)

    def _early(self, view: HostView, trips: list[EvTrip]) -> bool:
        """Checks before the EV is live: the request withdrawn, the deadline, its faults, its
        stop request before charging (a car that wants no charge, e.g. at its own limit, ends
        the session as its choice: no fault). A request during the SoC read on plug-in makes
        it a session."""
        if view.wants_energy:
            self._reading_soc = False
        if (not view.wants_energy and not self._reading_soc) or view.stage is Stage.LATCHED:
            self._charger_stop(view)
            return True
        if view.report is not None and (found := reported_faults(view.report)):
            trips.extend(found)
            self._stop(view, found[0].detail)
            return True
        # Past its placeholder frames only (the settled limits): 102.5.4 before charging.
        if self._settled and view.report is not None and view.report.normal_stop_request:
            self._stop(view, f"{ph.END_EV_DECLINED} (SoC {view.report.soc_pct:.0f} %)")
            return True
        return False

    def _in_exchange(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._early(view, trips):
            return
        r = view.report
        params = None if r is None else (r.max_battery_voltage_v, r.target_voltage_v)
        if params is None or min(params) <= 0.0 or params != self._params:
            self._params, self._params_since = params, view.now
        elif r is not None and view.now - self._params_since >= PARAMS_SETTLE_S:
            if r.max_battery_voltage_v > self._s.available_voltage_v:
                self._incompatible = True
                self._stop(view, ph.END_INCOMPATIBLE)
                return
            self._discharge = self._s.discharge and r.discharge_compatible
            self._settled = True
            self._plug_soc_pct = r.soc_pct
            if self._reading_soc:
                self._end_soc_read(view, ph.END_SOC_READ)
                return
            self._go(Phase.PERMISSION, self._since)  # one deadline from d1
            return
        if self._reading_soc and self._elapsed(view.now) > self._s.parameters_timeout_s:
            self._end_soc_read(view, ph.END_SOC_UNREAD)
            return
        self._deadline(view, trips, "the EV's valid parameters")

    def _deadline(self, view: HostView, trips: list[EvTrip], what: str) -> None:
        if self._elapsed(view.now) > self._s.parameters_timeout_s:
            # The SoC it reported tells a technician a full car from a broken switch k.
            soc = (f" (the EV reported SoC {self._plug_soc_pct:.0f} %: a car at its own charge "
                   "limit may withhold its permission)"
                   if self._settled and self._plug_soc_pct is not None else "")
            trips.append(EvTrip(ph.EV_PERMISSION_TIMEOUT, f"no {what} within "
                                f"{self._s.parameters_timeout_s:g} s of d1{soc}"))
            self._stop(view, f"{ph.EV_PERMISSION_TIMEOUT}: no {what}")

    def _in_permission(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._early(view, trips):
            return
        if view.permission and view.report is not None and view.report.charging_enabled:
            self._lock = True
            self._go(Phase.LOCKING, view.now)
            return
        self._deadline(view, trips, "charge permission (switch k and 102.5.0)")

    def _in_locking(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._early(view, trips):
            return
        if view.locked:
            self._go(Phase.READY, view.now)
        elif self._elapsed(view.now) > self._s.lock_timeout_s:
            trips.append(EvTrip(ph.EV_LOCK_TIMEOUT, f"lock feedback not confirmed within "
                                f"{self._s.lock_timeout_s:g} s"))
            self._stop(view, ph.EV_LOCK_TIMEOUT)

    def _permission_lost(self, view: HostView) -> bool:
        r = view.report
        return not view.permission or (r is not None and not r.charging_enabled)

    def _in_ready(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._early(view, trips) or self._common(view, trips):
            return
        if view.stage is Stage.EV_CLOSE:
            self._d2 = True
            self._go(Phase.CLOSING, view.now)

    def _common(self, view: HostView, trips: list[EvTrip]) -> bool:
        """Every tick from ready to stopping: lock, frames, permission, stop requests."""
        if not view.locked:
            trips.append(EvTrip(ph.EV_CONNECTOR_UNLOCKED, f"lock feedback lost in phase "
                                f"{self._phase.value}"))
            self._stop(view, ph.EV_CONNECTOR_UNLOCKED)
            return True
        if view.frames_age_s > self._s.frames_timeout_s:
            trips.append(EvTrip(ph.EV_COMM_LOST, f"no valid 0x102 for "
                                f"{min(view.frames_age_s, 1e6):.1f} s"))
            self._stop(view, ph.EV_COMM_LOST)
            return True
        if view.report is not None and view.report.normal_stop_request:
            self._stop(view, ph.END_EV_STOP)
            return True
        if self._permission_lost(view):
            self._stop(view, ph.END_PERMISSION)
            return True
        if not view.wants_energy or view.stage in (Stage.LATCHED, Stage.STOPPING):
            if self._ramping_down(view):
                return True  # the machine ramps the power down first (109.5.0 still set)
            self._charger_stop(view)
            return True
        return False

    def _ramping_down(self, view: HostView) -> bool:
        """The charger's own stop while power flows: the machine ramps it down at the
        inverter's rate with the vehicle's request still standing (as the recorded quick
        charger, whose current fell for 0.6 s with 109.5.0 set); 109.5.0 clears and 109.5.5
        sets once the current is below ``stop_current_a``. A latched fault does not wait."""
        current = view.current_a
        return (self._phase is Phase.TRANSFER and view.stage is not Stage.LATCHED
                and current is not None and math.isfinite(current)
                and abs(current) >= self._s.stop_current_a)

    def _in_closing(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._early(view, trips) or self._common(view, trips):
            return
        if view.report is not None and not view.report.contactor_open:
            self._closed_at = view.now
            self._go(Phase.TRANSFER, view.now)
        elif self._elapsed(view.now) > self._s.contactor_close_timeout_s:
            trips.append(EvTrip(ph.EV_CONTACTOR_TIMEOUT, f"the EV's contactors not closed "
                                f"within {self._s.contactor_close_timeout_s:g} s of d2"))
            self._stop(view, ph.EV_CONTACTOR_TIMEOUT)

    def _in_transfer(self, view: HostView, trips: list[EvTrip]) -> None:
        if self._common(view, trips):
            return
        r = view.report
        if r is None:
            return
        if r.contactor_open and view.stage is Stage.ENERGISED:
            self._stop(view, "the EV opened its contactors (102.5.3) during the transfer")
            return
        found = reported_faults(r)
        # The voltage window once energised (the inlet's first sample after the vehicle's
        # contactors close may predate them: the ADC visits the inlet every fourth tick,
        # hal/drivers/ads1115.py).
        window = voltage_outside(r, view.output_v) if view.stage is Stage.ENERGISED else None
        deviation = self._deviation.update(view.now, r, view.current_a)
        found += [t for t in (window, deviation) if t is not None]
        if found:
            trips.extend(found)
            self._stop(view, found[0].detail)
            return
        # 109.5.0 answers the vehicle's first current request (or, discharging, the agreed
        # discharge), as the recorded chargers do: 0.1-0.5 s after it (docs/ev-link.md).
        # Once set it stays until the stop (a request dipping to zero under dynamic control is
        # no stop: the DIY charger's recording keeps it).
        self._charging_flag = view.stage is Stage.ENERGISED and (
            self._charging_flag or r.charge_current_request_a > 0.0
            or (view.discharge_wanted and self._discharge))
        self._was_charging = self._was_charging or self._charging_flag
        self._requested = self._requested or r.charge_current_request_a > 0.0
        if self._request_overdue(view):
            trips.append(EvTrip(ph.EV_REQUEST_TIMEOUT, f"no current request within "
                                f"{self._s.request_timeout_s:g} s of the EV's contactors "
                                "closing"))
            self._stop(view, ph.EV_REQUEST_TIMEOUT)
            return
        if r.max_discharge_current_a > 0.0:
            self._discharge_seen = True
        if self._charging_flag and view.discharge_wanted:
            why = discharge_floor(r, view.output_v, self._s.lower_threshold_voltage_v,
                                  self._discharge_seen)
            if why is not None:
                self._stop(view, f"{ph.END_DISCHARGE_LIMIT}: {why}")

    def _request_overdue(self, view: HostView) -> bool:
        """Charging, the vehicle's contactors closed ``request_timeout_s`` ago and it has not
        asked for current (a discharge is agreed, not requested: no deadline then)."""
        return (not self._requested and not self._was_charging and not view.discharge_wanted
                and self._closed_at is not None
                and view.now - self._closed_at > self._s.request_timeout_s)

    def _silence(self, view: HostView, trips: list[EvTrip]) -> None:
        """While stopping and unlocking (d1 still on): a vehicle that spoke this session and
        went silent. The machine has stopped already (its report went stale first); the
        session still names the fault and releases the request."""
        if (self._heard and view.report is None and view.frames_age_s > self._s.frames_timeout_s
                and self._once(ph.EV_COMM_LOST)):
            trips.append(EvTrip(ph.EV_COMM_LOST, f"no valid 0x102 for "
                                f"{min(view.frames_age_s, 1e6):.1f} s"))
            self._restart = False
            self._ending = self._ending_out = ph.EV_COMM_LOST

    def _in_stopping(self, view: HostView, trips: list[EvTrip]) -> None:
        self._silence(view, trips)
        r = view.report
        current = view.current_a
        low = current is None or not math.isfinite(current) or abs(
            current) < self._s.stop_current_a
        if low and not self._was_charging:
            self._d2 = False  # no transfer began (no 109.5.0 seen by the car): d2 tells it
        if low and (r is None or r.contactor_open):
            self._d2 = False
            self._go(Phase.UNLOCKING, view.now)
        elif low and self._elapsed(view.now) > self._s.contactor_open_timeout_s:
            trips.append(EvTrip(ph.EV_CONTACTOR_OPEN_TIMEOUT, f"the EV's contactors not open "
                                f"{self._s.contactor_open_timeout_s:g} s after the stop"))
            self._d2 = False
            self._go(Phase.UNLOCKING, view.now)

    def _in_unlocking(self, view: HostView, trips: list[EvTrip]) -> None:
        self._silence(view, trips)
        dead = view.output_v is not None and math.isfinite(view.output_v) and (
            view.output_v < self._s.unlock_below_v)
        told = self._elapsed(view.now) >= END_FRAMES_S  # the vehicle has seen why (109.5)
        if self._heard and view.report is None and (
                view.frames_age_s <= self._s.frames_timeout_s):
            told = False  # a vehicle gone quiet: wait until it is EV_COMM_LOST (or back)
        if self._unlocked_at is not None:
            if view.now - self._unlocked_at >= END_FRAMES_S:  # 109.5.2 = 0 seen, then d1 off
                self._unlocked_at = None
                self._go(Phase.PLUGGED if self._restart else Phase.ENDED, view.now)
            return
        # (the machine may already be starting again: a cold start for backup; nothing is
        # energised before its precharge, which waits for this session's d2)
        if dead and told and view.stage in (Stage.DE_ENERGISED, Stage.LATCHED, Stage.STARTING,
                                            Stage.EV_CLOSE):
            self._lock = False
            self._unlocked_at = view.now
        elif not dead and self._elapsed(view.now) > self._s.output_discharge_timeout_s and (
                self._once(ph.EV_OUTPUT_LIVE)):
            trips.append(EvTrip(ph.EV_OUTPUT_LIVE, f"output {view.output_v} V not below "
                                f"{self._s.unlock_below_v:g} V: the connector stays locked"))

    def _once(self, code: str) -> bool:
        """True the first time ``code`` is raised this session (a fault reported once)."""
        if code in self._latched:
            return False
        self._latched.add(code)
        return True

    def _in_ended(self, view: HostView, trips: list[EvTrip]) -> None:
        if not view.wants_energy:
            self._go(Phase.PLUGGED, view.now)

    # ----- outputs ---------------------------------------------------------------------------
    def write(self, now: float) -> None:
        for name, active in ((D1, self._d1), (D2, self._d2), (LOCK, self._lock)):
            output = self._outputs.get(name)
            if output is not None and output.active != active:
                output.set(active)
        view = self._view
        if view is None or not self._d1 or now < self._next_frame - 1e-6:
            return
        self._next_frame = max(self._next_frame + CHADEMO_CYCLE_S, now)
        frames = build_frames(self._s, view, locked=self._lock and view.locked,
                              charging=self._charging_flag and self._phase is Phase.TRANSFER,
                              incompatible=self._incompatible, discharge=self._discharge)
        for frame_id, data in self._codec.encode(frames):
            self._send(frame_id, data)
