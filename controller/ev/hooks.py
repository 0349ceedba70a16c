"""Where the EV link meets the supervisor's tick: build it, give it a view, collect its faults.

The tick (``controller/supervisor/stages.py``) calls :meth:`EvHooks.observe` after protection
(the session's faults join protection's trips, so the one trip path latches them; its answers
go to the mode machine as the context's :class:`EvGate`), :meth:`EvHooks.dispatch_snapshot`
for the dispatcher, and :meth:`EvHooks.write` in the output stage, after the contactors. Each
call is one marked line there (``# EV link``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from controller.config.model import Config
from controller.ev.chademo.session import ChademoSession
from controller.ev.link import STAGES, EvLink, HostView, Stage
from controller.links.ev_link import EvLink as EvReceiver
from controller.measurement.grid_estimator import GridEstimate
from controller.modes.requests import Request
from controller.modes.states import BACKUP_STATES, State
from controller.protection.protection import ProtectionResult
from controller.protection.trip import Trip
from controller.values.ev_gate import EvGate
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode
from hal.errors import V2xError
from hal.interfaces.hardware import Hardware
from hal.protocols.chademo_codec import EV_CHARGE_STATUS_ID

log = logging.getLogger(__name__)
CHARGE = "charge"
PROXIMITY, PERMISSION, LOCKED = "ev_present", "ev_permission", "ev_locked"
MACHINE_ACTIVE = frozenset({Stage.STARTING, Stage.EV_CLOSE, Stage.ENERGISED})


class EvHooks:
    """The EV session of one connector and what the supervisor needs from it."""

    def __init__(self, config: Config, hardware: Hardware, receiver: EvReceiver,
                 event: Callable[[str, str], None]) -> None:
        self._config = config
        self._receiver = receiver
        self._event = event
        link = hardware.can["ev"]
        self.send_failures = 0

        def send(frame_id: int, data: bytes) -> None:
            try:
                link.send(frame_id, data)
            except V2xError:
                self.send_failures += 1  # the vehicle's own 1 s timeout covers a dead link

        self.session: EvLink = ChademoSession(config.ev, hardware.outputs, send)
        self._phase = self.session.phase

    def observe(self, snap: Snapshot, state: State, request: Request,
                result: ProtectionResult, estimate: GridEstimate | None,
                ) -> tuple[list[Trip], EvGate]:
        """Step the session on this tick's snapshot: its faults (for the trip path) and its
        answers to the mode machine (:class:`EvGate`, read by the guards).

        With ``backup.from_idle`` a utility outage wants energy too: the session starts so that
        the vehicle reports (SoC, V2X) and the machine may decide on a cold start for backup."""
        trips: list[Trip] = []
        backup = self._config.backup
        outage = (estimate is None or not estimate.voltage_present) or result.grid.island
        age = self._config.protection.sensor_max_age_s
        stage = STAGES[state]
        view = HostView(
            now=snap.t, proximity=snap.inputs.get(PROXIMITY, False),
            permission=snap.inputs.get(PERMISSION, False),
            locked=snap.inputs.get(LOCKED, False), report=snap.ev,
            frames_age_s=self._receiver.frame_age(EV_CHARGE_STATUS_ID, snap.t),
            output_v=snap.analog_value("ev_inlet_v", age),
            current_a=snap.analog_value("dc_current_a", age),
            # The machine may start without a request: a cold start for backup (backup.from_idle)
            wants_energy=(request.mode != "idle" or stage in MACHINE_ACTIVE
                          or (backup.enabled and backup.from_idle and outage)),
            discharge_wanted=request.mode not in ("idle", CHARGE) or state in BACKUP_STATES,
            stage=stage)
        for found in self.session.step(view):
            trips.append(Trip(FaultCode(found.code), found.detail))
        s = self.session
        phase = s.phase
        if phase != self._phase:
            why = s.ending if phase == "unlocking" else None
            self._event("ev", f"EV session {self._phase} -> {phase}"
                        + (f" ({why})" if why else ""))
            self._phase = phase
        return trips, EvGate(phase, s.startable, s.transfer_allowed,
                             s.contactors_closed_at is not None, s.in_session,
                             s.blocked_reason())

    def dispatch_snapshot(self, snap: Snapshot) -> Snapshot:
        """The snapshot the dispatcher sees: no current allowed outside the transfer phase."""
        report = self.session.dispatch_report(snap.ev)
        return snap if report is snap.ev else dataclasses.replace(snap, ev=report)

    def write(self, now: float, end_mode: Callable[[str, str], None], mode: str) -> None:
        """Signals and frames out; a session that ended releases the request that started it."""
        self.session.write(now)
        ending = self.session.take_ending()
        if ending is not None and mode != "idle":
            end_mode(mode, f"EV session ended: {ending}")
