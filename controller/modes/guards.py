"""The guards of the transition table (``controller/modes/table.py``): pure reads.

A guard reads the tick's context (``controller/values/context.py``), the machine's state and the
condition timers that :meth:`ModeBase.observe` advanced once this tick; it changes nothing, so
evaluating it twice in a tick gives the same answer (``ModeLogic.fire`` relies on that). Why a
transition happens is written by its ``before`` callback (``controller/modes/callbacks.py``).
"""

from __future__ import annotations

from typing import Any

from controller.modes.base import ModeBase
from controller.modes.checks import Isolation, dc_isolation, insulation_ok
from controller.modes.service import TEST_HOLD_S, refusal
from controller.modes.states import ENERGY_MODES, State

POWER_AT_ZERO_W = 50.0
SELFTEST_MIN_S = 0.5
# stopping_isolate: after K_AC's own confirmation time, the DC current has this long to fall
# below sequence.open_below_current_a before K_DC opens anyway (the last resort, recorded).
ISOLATE_SETTLE_S = 0.5


class Guards(ModeBase):
    # ----- start-up, EV, requests ------------------------------------------------------------
    def selftest_failed(self, _e: Any) -> bool:
        return self._c().latched_faults > 0 and self.cleared_at != self.t

    def selftest_passed(self, _e: Any) -> bool:
        c = self._c()
        return (self.time_in_state() >= SELFTEST_MIN_S and c.latched_faults == 0
                and not c.protection.trips)

    def ev_connected(self, _e: Any) -> bool:
        """An EV is plugged in (the proximity input) and reporting on its CAN bus."""
        c = self._c()
        snap = c.snapshot
        if c.ev is not None:  # EV link: the vehicle talks only in a session (after d1)
            return snap.inputs.get("ev_present", False)
        return snap.inputs.get("ev_present", False) and snap.ev is not None

    def energy_wanted(self, _e: Any) -> bool:
        return self._c().request.mode in ENERGY_MODES

    def wants_charge(self, _e: Any) -> bool:
        return self._c().request.mode == "charge"

    def wants_v2h(self, _e: Any) -> bool:
        return self._c().request.mode == "v2h"

    def wants_v2g(self, _e: Any) -> bool:
        return self._c().request.mode == "v2g"

    def wants_v2l(self, _e: Any) -> bool:
        return self._c().request.mode == "v2l"

    def may_energise(self, _e: Any) -> bool:
        gate = self._c().ev
        if gate is not None and not gate.startable:  # EV link: locked and permitted
            return False
        return self.blocked_reason() is None

    def blocked_reason(self) -> str | None:
        """Why the requested mode cannot start now (None: it may), in words for the requester."""
        c = self._c()
        snap, mode = c.snapshot, c.request.mode
        if mode not in ENERGY_MODES:
            return None
        ev, gate = snap.ev, c.ev
        if not snap.inputs.get("ev_present", False):
            return "no EV connected, or it is not reporting"
        if not snap.inputs.get("door", False):
            return "the enclosure door is open"
        if c.protection.trips:
            return "protection trip: " + ", ".join(sorted({t.code for t in c.protection.trips}))
        if mode != "v2l" and not c.protection.grid.ok:
            return f"the grid is not normal ({c.protection.grid.reason})"
        if snap.inverter_settings_problem is not None:
            return f"inverter settings not verified ({snap.inverter_settings_problem})"
        if gate is not None and gate.blocked is not None:
            return gate.blocked  # EV link: a session that ended (the phases before ready: progress)
        if gate is not None and gate.in_session and not gate.startable:
            return None  # EV link: d1, parameters, permission, lock under way: not a refusal
        if ev is None:
            if gate is not None and gate.in_session:
                return None  # EV link: the vehicle speaks once d1 is on; not a refusal
            return "no EV connected, or it is not reporting"
        if mode == "charge":
            return None if ev.charging_enabled else "the EV does not allow charging"
        if not ev.discharge_compatible:
            return "the EV does not support discharge (no V2X)"
        if not self._above_reserve():
            floor = self.config.v2h.reserve_soc_pct + self.config.v2h.reserve_hysteresis_pct
            return f"EV at {ev.soc_pct:.0f} % SoC: {mode} needs more than {floor:.0f} %"
        return None

    def _above_reserve(self) -> bool:
        ev = self._c().snapshot.ev
        v2h = self.config.v2h
        return ev is not None and ev.discharge_compatible and ev.soc_pct > (
            v2h.reserve_soc_pct + v2h.reserve_hysteresis_pct)

    def _at_or_below_reserve(self) -> bool:
        ev = self._c().snapshot.ev
        return ev is not None and ev.soc_pct <= self.config.v2h.reserve_soc_pct

    def _stop_requested(self) -> bool:
        """An explicit idle request; with ``backup.from_idle`` no request at all is not a stop."""
        request = self._c().request
        return request.mode == "idle" and (request.source != "default"
                                           or not self.config.backup.from_idle)

    # ----- the technician's contactor test (controller/modes/service.py) --------------------
    def contactor_test_wanted(self, _e: Any) -> bool:
        c = self._c()
        name = c.contactor_test
        return name is not None and refusal(
            name, self.current, self.plan.is_safe(), c.request.mode, c.snapshot,
            self.config.sequence, self.config.protection.sensor_max_age_s) is None

    def contactor_test_done(self, _e: Any) -> bool:
        return self.time_in_state() >= TEST_HOLD_S

    # ----- the start sequence: DC-side checks (controller/modes/checks.py), precharge --------
    def dc_proven_open(self, _e: Any) -> bool:
        check = dc_isolation(self._c().snapshot, self.config.sequence,
                             self.config.protection.sensor_max_age_s)
        return check.verdict is not Isolation.NOT_PROVEN

    def weld_check_expired(self, e: Any) -> bool:
        return (self.time_in_state() > self.config.sequence.weld_check_timeout_s
                and not self.dc_proven_open(e))

    def insulation_proven(self, _e: Any) -> bool:
        """The insulation monitor has reported OK for ``insulation_test_s`` in a row. A cold
        start for backup credits the monitor's unbroken healthy history with the DC side open
        before the test (the same conditions, read every tick; docs/safety.md)."""
        held = max(self.imd_ok_s, self.imd_history_s) if self.backup_start else self.imd_ok_s
        return held >= self.config.sequence.insulation_test_s  # (a positive setting)

    def insulation_ok_now(self, _e: Any) -> bool:
        return insulation_ok(self._c().snapshot)

    def insulation_test_expired(self, e: Any) -> bool:
        return (self.time_in_state() > self.config.sequence.insulation_test_timeout_s
                and not self.insulation_proven(e))

    def starting_for_backup(self, _e: Any) -> bool:
        return self.backup_start

    def precharged(self, _e: Any) -> bool:
        """The DC link within the tolerance of the inlet, judged only by samples read after the
        tick the precharge began (``sample_since_entry``): an inlet sample from before the
        vehicle's contactors closed (even one read in the very tick its CAN frame said so)
        reads 0 V like the empty link (K_DC then closed onto a 113 V link against a 361 V
        battery: tests/test_ev_property.py, after the ADC's scan changed)."""
        if not self._closed("precharge"):
            return False
        link = self.sample_since_entry("dc_link_v")
        inlet = self.sample_since_entry("ev_inlet_v")
        if link is None or inlet is None:
            return False
        return abs(link - inlet) <= self.config.sequence.precharge_tolerance_v

    def precharge_expired(self, _e: Any) -> bool:
        return self.time_in_state() > self.config.sequence.precharge_timeout_s

    def ev_contactors_closed(self, _e: Any) -> bool:
        """EV link: the vehicle closed its contactors after d2 (its own deadline is the
        session's EV_CONTACTOR_TIMEOUT); without an EV link there is nothing to wait for."""
        gate = self._c().ev
        return gate is None or gate.contactors_closed

    def dc_closed_confirmed(self, _e: Any) -> bool:
        return self._closed("dc")

    def output_confirmed(self, e: Any) -> bool:
        """The AC side chosen for the request is closed and the precharge path open."""
        side = "v2l" if self.wants_v2l(e) and not self.backup_start else "ac"
        return self._closed(side) and not self._closed("precharge")

    # ----- energised -------------------------------------------------------------------------
    def may_stay_energised(self, _e: Any) -> bool:
        c = self._c()
        snap = c.snapshot
        present = (snap.ev is not None and snap.inputs.get("ev_present", False)
                   and snap.inputs.get("door", False))
        if not present or (c.ev is not None and not c.ev.transfer_allowed):  # EV link
            return False
        # The V2L outlet is isolated from the home and the utility: it needs no grid.
        if self.current is State.ENERGISED_V2L or (
                self._state.startswith("starting") and c.request.mode == "v2l"):
            return True
        # Every grid-parallel mode needs a normal grid; export (v2g) also a healthy protection.
        return c.protection.grid.ok and not (c.request.mode == "v2g" and c.protection.trips)

    def stop_needed(self, e: Any) -> bool:
        """Energised stops when energy is no longer wanted or no longer allowed, or when the
        request moves between V2L and a grid-parallel mode (different contactors)."""
        if not (self.energy_wanted(e) and self.may_stay_energised(e)):
            return True
        if self.current is State.ENERGISED_V2L and self._at_or_below_reserve():
            return True  # v2l cannot hold zero power: it stops at the reserve
        return (self.current is State.ENERGISED_V2L) != self.wants_v2l(e)

    def v2l_overloaded(self, _e: Any) -> bool:
        """The outlet has drawn more than its rating for longer than the overload time."""
        return self.overload_s > self.config.v2l.overload_time_s

    def power_at_zero(self, _e: Any) -> bool:
        return abs(self._c().commanded_power_w) < POWER_AT_ZERO_W
