"""The guards of backup, the stop sequences and the latched states: pure reads, as in
``controller/modes/guards.py`` (whose class this one extends)."""

from __future__ import annotations

from typing import Any

from controller.faults import UNTRUSTED_INVERTER
from controller.modes.guards import ISOLATE_SETTLE_S, Guards
from controller.modes.states import LATCHED, State


class StopGuards(Guards):
    # ----- backup (utility outage) -----------------------------------------------------------
    def grid_lost(self, _e: Any) -> bool:
        """The meter sees no utility voltage at all (not merely an abnormal grid), or the
        islanding backstop suspects the utility is gone while the bus is still held up."""
        c = self._c()
        est = c.estimate
        return est is None or not est.voltage_present or c.protection.grid.island

    def backup_allowed(self, _e: Any) -> bool:
        ev = self._c().snapshot.ev
        floor = self.config.backup.reserve_soc_pct + self.config.v2h.reserve_hysteresis_pct
        return (self.config.backup.enabled and ev is not None and ev.discharge_compatible
                and ev.soc_pct > floor and not self._c().protection.trips)

    def start_abandoned(self, e: Any) -> bool:
        """Starting stops when energy is no longer wanted or no longer allowed (a cold start for
        backup: when backup is no longer allowed or the utility is back)."""
        if self.backup_start:
            return not (self.backup_allowed(e) and self.grid_lost(e)) or self._stop_requested()
        return not (self.energy_wanted(e) and self.may_energise(e))

    def backup_from_idle_allowed(self, e: Any) -> bool:
        """The owner's consent to discharge an EV that is not discharging (from ev_connected or
        charge); an explicit stop request withholds it (else the cold start is abandoned at
        once and retried every few ticks)."""
        return self.config.backup.from_idle and self.backup_allowed(e) and (
            self._c().snapshot.inputs.get("door", False)) and not self._stop_requested()

    def backup_reserve_reached(self, _e: Any) -> bool:
        ev = self._c().snapshot.ev
        return (ev is None or ev.soc_pct <= self.config.backup.reserve_soc_pct
                or self._stop_requested())

    def grid_open_confirmed(self, _e: Any) -> bool:
        view = self._c().snapshot.contactors["grid"]
        return view.feedback_closed is False  # an unconfirmed K_GRID forbids forming

    def grid_normal(self, _e: Any) -> bool:
        """The returned utility is inside the enter-service window now."""
        grid = self._c().protection.grid
        return grid.ok or grid.in_window

    def return_delay_passed(self, _e: Any) -> bool:
        """Enter service: the window held for the whole delay (backup.return_delay_s)."""
        return self._c().protection.grid.ok

    def inverter_synced(self, _e: Any) -> bool:
        status = self._c().snapshot.inverter
        return status is not None and status.synced and self._c().protection.grid.ok

    def sync_expired(self, _e: Any) -> bool:
        return self.time_in_state() > self.config.backup.sync_timeout_s

    def grid_closed_confirmed(self, _e: Any) -> bool:
        return self._c().snapshot.contactors["grid"].feedback_closed is True

    # ----- stopping ----------------------------------------------------------------------------
    def dc_current_a(self) -> float | None:
        snap = self._c().snapshot
        return snap.analog_value("dc_current_a", self.config.protection.sensor_max_age_s)

    def dc_current_low(self, _e: Any) -> bool:
        """Below ``open_below_current_a`` by a sample read in this state (a sample from before
        the AC side opened or the ramp began says nothing about the current now)."""
        current = self.sample_since_entry("dc_current_a")
        return current is not None and abs(current) < self.config.sequence.open_below_current_a

    def ramp_timed_out(self) -> bool:
        """The ramp-down ran past ``rampdown_timeout_s`` without reaching zero current."""
        return self.time_in_state() > self.config.sequence.rampdown_timeout_s

    def ramp_done(self, e: Any) -> bool:
        return (self.dc_current_low(e) and self.power_at_zero(e)) or self.ramp_timed_out()

    def untrusted_codes(self) -> set[str]:
        """This tick's faults that say the inverter does not follow its command or reports
        what cannot be true (``controller/faults.py``, ``UNTRUSTED_INVERTER``)."""
        codes: set[str] = {t.code for t in self._c().protection.trips}
        return codes & UNTRUSTED_INVERTER

    def inverter_untrusted(self, _e: Any) -> bool:
        return any(t.code in UNTRUSTED_INVERTER for t in self._c().protection.trips)

    def isolation_expired(self, _e: Any) -> bool:
        limit = self.config.sequence.contactor_timeout_s + ISOLATE_SETTLE_S
        return self.time_in_state() > limit

    def all_open_confirmed(self, _e: Any) -> bool:
        return not any(self._closed(n) for n in ("dc", "ac", "precharge", "v2l"))

    # ----- latched states ----------------------------------------------------------------------
    def in_latched_state(self, _e: Any) -> bool:
        return self.current in LATCHED

    def in_estop(self, _e: Any) -> bool:
        return self.current is State.ESTOP

    def reset_allowed(self, _e: Any) -> bool:
        """No trip condition is present (the supervisor fires ``reset`` only for a reset it
        granted: the role may clear every latched fault)."""
        return not self._c().protection.trips
