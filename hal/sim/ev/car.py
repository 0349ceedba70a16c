"""The simulated vehicle's side of CHAdeMO, by the same rules as the charger's side.

It sleeps until d1; then it sends its frames every 100 ms (placeholders first), reads the
charger's, sets switch k and 102.5.0 once it has heard a compatible charger, closes its
contactors only after d2 with the charger's lock flag and no malfunction, asks for current
after its contactors closed, and opens its contactors after a stop (its own, or the charger's
stop control after 109.5.0) once the current is below 5 A. It stops by
itself when the charger's frames stop for 1 s. ``faults`` (``profiles.EvFaults``) make it
misbehave on purpose.
"""

from __future__ import annotations

from functools import partial
from typing import Final

import can

from hal.protocols.chademo_charger import (
    CHARGER_CAPABILITY_ID,
    CHARGER_DISCHARGE_ID,
    CHARGER_FRAME_IDS,
    CHARGER_STATUS_ID,
    ChargerCodec,
)
from hal.protocols.chademo_codec import CHADEMO_CYCLE_S, ChademoCodec
from hal.protocols.dbc_frames import FrameError
from hal.protocols.ev_messages import EvReport
from hal.sim.can_bus import data_frame
from hal.sim.ev.profiles import EvFaults, EvProfile
from hal.sim.last_call import LastCall
from hal.sim.plant.battery import EvBattery

STOP_CURRENT_A: Final = 5.0
PLACEHOLDER_REF: Final = 240  # the Leaf's ChargedRateRef before it knows the charger
_SLACK_S: Final = 1e-6


class SimChademoCar:
    """One vehicle on the EV bus. ``step`` once per plant step with the sequence signals."""

    def __init__(self, bus: can.BusABC, battery: EvBattery, profile: EvProfile) -> None:
        self._bus = bus
        self.battery = battery
        self.profile = profile
        self.faults = EvFaults()
        self._codec = ChademoCodec()
        # The four frames of the last report: a car whose report holds (most cycles) re-sends
        # them without building them again (the report is every field of all four frames).
        self._frames_of = LastCall(self._codec.encode_vehicle_frames)
        self._charger = ChargerCodec()
        # Per charger frame ID, the last payload and its values: a charger whose values hold
        # (CHAdeMO frames carry no counter) sends the same bytes cycle after cycle. The values
        # are only read, never changed, so one dict may serve every cycle.
        self._decode = {frame_id: LastCall(partial(self._charger.decode, frame_id))
                        for frame_id in CHARGER_FRAME_IDS}
        self.awake = False
        self.permission = False
        self.contactors_closed = False
        self.requesting = False
        self.stopping = False
        self.declining = False  # at its target, offered a charge only: 102.5.4 before charging
        self.charger: dict[int, tuple[float, dict[str, float]]] = {}
        self._cycles = 0
        self._next_due = 0.0
        self._t_first_charger: float | None = None
        self._t_d2: float | None = None
        self._t_closed: float | None = None
        self._t_low: float | None = None
        self._discharge_a = 0.0
        self._charged = False  # the charger set 109.5.0 this session
        self._t_request: float | None = None  # when it first asked for current
        self.send_failures = 0
        self.rejected = 0

    @property
    def k_switch(self) -> bool:
        """The vehicle charge permission signal (switch k) as the charger's input sees it."""
        return self.permission and not self.faults.k_broken

    def _sleep(self) -> None:
        self.awake = self.permission = self.contactors_closed = self.requesting = False
        self.stopping = self.declining = False
        self.charger.clear()
        self._cycles = 0
        self._t_first_charger = self._t_d2 = self._t_closed = self._t_low = None
        self._t_request = None
        self._discharge_a = 0.0
        self._charged = False

    def _receive(self, now: float) -> None:
        while True:
            msg = self._bus.recv(timeout=0.0)
            if msg is None:
                return
            frame_id, data = msg.arbitration_id, bytes(msg.data)
            decode = self._decode.get(frame_id)
            try:
                values = (decode(data) if decode is not None
                          else self._charger.decode(frame_id, data))  # refused: not a charger's
                self.charger[frame_id] = (now, values)
            except FrameError:
                self.rejected += 1

    def _fresh(self, frame_id: int, now: float) -> dict[str, float] | None:
        entry = self.charger.get(frame_id)
        if entry is None or now - entry[0] > self.profile.charger_timeout_s:
            return None
        return entry[1]

    def step(self, now: float, plugged: bool, d1: bool, d2: bool) -> None:
        self._receive(now)
        if not (plugged and d1):
            self._sleep()
            return
        self.awake = True
        status = self._fresh(CHARGER_STATUS_ID, now)
        capability = self._fresh(CHARGER_CAPABILITY_ID, now)
        if status is not None and self._t_first_charger is None:
            self._t_first_charger = now
        if self._t_first_charger is not None and (status is None or capability is None):
            self.stopping = True  # the charger went silent: stop (it cannot tell us to)
        self._sequence(now, status, capability, d2)
        if self._due(now):
            self._publish(now, capability)

    def _sequence(self, now: float, status: dict[str, float] | None,
                  capability: dict[str, float] | None, d2: bool) -> None:
        p, f = self.profile, self.faults
        compatible = capability is not None and (
            capability["AvailableOutputVoltage"] >= self.battery.params.max_voltage_v)
        if f.stop is not None or self._target_ends_it():
            self.stopping = True
        heard_s = (now - self._t_first_charger if self._t_first_charger is not None and compatible
                   else -1.0)
        if (heard_s >= p.decline_delay_s and not self.permission
                and self._target_holds_permission(now)):
            self.declining = True  # full, and only a charge offered: it asks to stop
        if (heard_s >= p.permission_delay_s + f.late_permission_s and not self.stopping
                and not self.declining and not self._target_holds_permission(now)):
            self.permission = f.stop != "permission_off"
        if self.stopping and f.stop in (None, "permission_off"):
            self.permission = f.stop is None and self.permission
        if d2 and self._t_d2 is None:
            self._t_d2 = now
        locked = status is not None and bool(status["StatusConnectorLocked"])
        malfunction = status is not None and bool(status["StatusChargerMalfunction"])
        rules_kept = f.eager_close or (self.permission and locked and not malfunction
                                       and not self.stopping)
        if (not self.contactors_closed and self._t_d2 is not None and d2 and rules_kept
                and not f.refuses_to_close and now - self._t_d2 >= p.contactor_close_delay_s):
            self.contactors_closed = True
            self._t_closed = now
        charging = status is not None and bool(status["StatusCharging"])
        if charging:
            self._charged = True
        if self._charged and self._charger_stopped():
            self.stopping = True  # the charger's stop control after the transfer: stop
        if (self._t_request is not None and not charging and self._charger_stopped()
                and now - self._t_request > self.profile.no_answer_s):
            self.stopping = True  # it asked for current and the charger never started
        if self.contactors_closed and self._t_closed is not None:
            # As the Leaf: it asks for current after its contactors closed (the charger answers
            # with 109.5.0), not after 109.5.0.
            self.requesting = (not self.stopping and now - self._t_closed >= p.request_delay_s)
            if self.requesting and self._t_request is None:
                self._t_request = now
            if f.keeps_requesting:
                self.requesting = True
            if f.never_requests:
                self.requesting = False
        self._maybe_open(now, charging, d2)

    def _maybe_open(self, now: float, charging: bool, d2: bool) -> None:
        if not self.contactors_closed or self.faults.stays_closed:
            return
        if not d2:  # the charger dropped d2 with our contactors closed: open now
            self.contactors_closed = False
            return
        if not self.stopping or self.faults.keeps_requesting:
            self._t_low = None
            return
        if abs(self.battery.current_a) >= STOP_CURRENT_A:
            self._t_low = None
            return
        if self._t_low is None:
            self._t_low = now
        if now - self._t_low >= self.profile.contactor_open_delay_s:
            self.contactors_closed = False

    def _full(self) -> bool:
        return self.battery.soc_pct >= self.profile.target_soc_pct

    def _target_ends_it(self) -> bool:
        """At its target SoC the vehicle ends a session once charge flows into it (a moment's
        top-up, as a mid-session stop)."""
        return self._full() and self.battery.current_a >= STOP_CURRENT_A

    def _target_holds_permission(self, now: float) -> bool:
        """At its target SoC the vehicle gives no permission to a session that can only charge
        it: it asks to stop before charging (102.5.4) instead. One the charger offers to
        discharge (0x208 heard; the vehicle discharge-compatible) it permits: a bidirectional
        car at its charge target still discharges."""
        offered = (self.profile.discharge_compatible
                   and self._fresh(CHARGER_DISCHARGE_ID, now) is not None)
        return self._full() and not offered

    def _charger_stopped(self) -> bool:
        entry = self.charger.get(CHARGER_STATUS_ID)
        return entry is not None and bool(entry[1]["StatusChargerStopControl"])

    def _due(self, now: float) -> bool:
        if self.faults.frames_stop:
            return False
        if now < self._next_due - _SLACK_S:
            return False
        self._next_due = max(self._next_due + CHADEMO_CYCLE_S, now)
        return True

    def report(self, capability: dict[str, float] | None = None) -> EvReport:
        """What the vehicle says this cycle."""
        b, p, f = self.battery, self.profile, self.faults
        placeholder = self._cycles < p.placeholder_cycles
        max_discharge = (b.params.max_discharge_current_a if p.max_discharge_current_a is None
                         else p.max_discharge_current_a)
        offered = capability["AvailableOutputCurrent"] if capability else 0.0
        request = min(b.params.max_charge_current_a, offered) if self.requesting else 0.0
        return EvReport(
            soc_pct=round(b.soc_pct), capacity_kwh=b.params.capacity_kwh,
            min_battery_voltage_v=round(3.0 * b.params.cells_in_series),
            max_battery_voltage_v=b.params.max_voltage_v + f.over_voltage_v,
            target_voltage_v=b.params.max_voltage_v,
            charge_current_request_a=request,
            max_discharge_current_a=min(self._discharge_a, max_discharge),
            min_discharge_voltage_v=round(3.3 * b.params.cells_in_series),
            min_discharge_soc_pct=b.params.min_soc_pct,
            charging_enabled=self.permission and not self.stopping,
            discharge_compatible=p.discharge_compatible,
            fault_flags=f.fault_flags, protocol_number=p.protocol_number,
            contactor_open=not self.contactors_closed,
            normal_stop_request=f.stop == "normal_stop" or self.declining,
            shift_not_park=f.not_in_park, system_fault=f.system_fault,
            charged_rate_ref=PLACEHOLDER_REF if placeholder else 100)

    def _publish(self, now: float, capability: dict[str, float] | None) -> None:
        agreed = self._fresh(CHARGER_DISCHARGE_ID, now) is not None
        if agreed and self.profile.discharge_compatible and self.contactors_closed:
            self._discharge_a += self.profile.discharge_ramp_a_per_cycle
        frames = self._frames_of(self.report(capability))
        if not agreed or not self.profile.discharge_compatible:
            frames = [(fid, data) for fid, data in frames if fid != 0x200]
        self._cycles += 1
        for frame_id, data in frames:
            try:
                self._bus.send(data_frame(frame_id, data), timeout=0.0)
            except (can.CanError, OSError):
                self.send_failures += 1
