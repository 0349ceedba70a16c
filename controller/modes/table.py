"""The transition table: every way the machine can move, as data.

Triggers: ``tick`` (fired once per control tick; the first transition whose guards hold wins,
children before parents), ``trip`` and ``emergency_stop`` (fired only by the supervisor's one
trip path, any state), and ``reset`` (a reset the supervisor granted: an operator, a technician
or the automatic retry). Guards name pure methods of :class:`controller.modes.machine.ModeLogic`
(``guards.py``, ``guards_stop.py``); ``before`` names the callback that records why
(``callbacks.py``). ``tests/test_state_table.py`` checks that every name exists and that the
machine as built is this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.modes.states import State

ANY = "*"


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    source: State | str
    dest: State
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    before: str | None = None


S = State
T = Transition
TRANSITIONS: tuple[Transition, ...] = (
    T("tick", S.SELFTEST, S.FAULT, ("selftest_failed",), before="record_selftest_failure"),
    T("tick", S.SELFTEST, S.IDLE, ("selftest_passed",)),
    T("tick", S.IDLE, S.EV_CONNECTED, ("ev_connected",)),
    T("tick", S.EV_CONNECTED, S.IDLE, unless=("ev_connected",)),
    # A cold start for backup: K_GRID opens while the DC side goes through its checks and its
    # precharge (they touch only the DC side, the inverter stays off), so the two overlap;
    # forming waits for K_GRID confirmed open (issue 16 item 10: the home dark <= 0.5 s).
    T("tick", S.EV_CONNECTED, S.STARTING_WELD_CHECK, ("grid_lost", "backup_from_idle_allowed"),
      before="record_outage_while_idle"),
    T("tick", S.EV_CONNECTED, S.STARTING, ("energy_wanted", "may_energise")),
    # A technician's contactor test (controller/modes/service.py): one coil, for a moment.
    T("tick", S.IDLE, S.SERVICE_TEST, ("contactor_test_wanted",)),
    T("tick", S.EV_CONNECTED, S.SERVICE_TEST, ("contactor_test_wanted",)),
    T("tick", S.SERVICE_TEST, S.IDLE, ("contactor_test_done",), before="record_contactor_test"),
    T("tick", S.STARTING, S.STOPPING_OPEN, ("start_abandoned",)),
    # Before anything closes: K_DC and the precharge relay proven open (not welded), then the
    # insulation monitor healthy for the test time, then precharge.
    T("tick", S.STARTING_WELD_CHECK, S.STARTING_INSULATION_TEST, ("dc_proven_open",),
      before="record_dc_isolation"),
    T("tick", S.STARTING_WELD_CHECK, S.FAULT, ("weld_check_expired",),
      before="record_weld_before_closing"),
    # EV link (issue 19): after the insulation test, d2; the vehicle's contactors closed put its
    # battery on the inlet, and only then K_PRE precharges the DC link from it.
    T("tick", S.STARTING_INSULATION_TEST, S.STARTING_EV_CLOSE, ("insulation_proven",)),
    # With the vehicle's battery on the inlet the welding check can use voltage again: K_DC and
    # K_PRE must still be proven open (a weld the aux contact hides is found here).
    # An insulation alarm while the vehicle closes (up to ev.contactor_close_timeout_s after
    # the test passed) repeats the test before anything on the DC side closes, as in precharge.
    T("tick", S.STARTING_EV_CLOSE, S.STARTING_INSULATION_TEST, unless=("insulation_ok_now",),
      before="record_insulation_retest"),
    T("tick", S.STARTING_EV_CLOSE, S.STARTING_PRECHARGE, ("ev_contactors_closed",
                                                          "dc_proven_open")),
    T("tick", S.STARTING_EV_CLOSE, S.FAULT, ("ev_contactors_closed", "weld_check_expired"),
      before="record_weld_before_closing"),
    T("tick", S.STARTING_INSULATION_TEST, S.FAULT, ("insulation_test_expired",),
      before="record_insulation_test_failure"),
    # The insulation must stay proven until K_DC closes: any alarm during the precharge (even
    # one shorter than protection's filter) opens K_PRE and repeats the test.
    T("tick", S.STARTING_PRECHARGE, S.STARTING_INSULATION_TEST, unless=("insulation_ok_now",),
      before="record_insulation_retest"),
    T("tick", S.STARTING_PRECHARGE, S.STARTING_CLOSE_DC, ("precharged",)),
    T("tick", S.STARTING_PRECHARGE, S.FAULT, ("precharge_expired",),
      before="record_precharge_timeout"),
    T("tick", S.STARTING_CLOSE_DC, S.STARTING_CLOSE_AC, ("dc_closed_confirmed",)),
    T("tick", S.STARTING_CLOSE_AC, S.BACKUP_ISLAND, ("output_confirmed", "starting_for_backup",
                                                     "grid_open_confirmed")),
    T("tick", S.STARTING_CLOSE_AC, S.ENERGISED_CHARGE, ("output_confirmed", "wants_charge"),
      unless=("starting_for_backup",)),
    T("tick", S.STARTING_CLOSE_AC, S.ENERGISED_V2H, ("output_confirmed", "wants_v2h"),
      unless=("starting_for_backup",)),
    T("tick", S.STARTING_CLOSE_AC, S.ENERGISED_V2G, ("output_confirmed", "wants_v2g"),
      unless=("starting_for_backup",)),
    T("tick", S.STARTING_CLOSE_AC, S.ENERGISED_V2L, ("output_confirmed", "wants_v2l"),
      unless=("starting_for_backup",)),
    T("tick", S.ENERGISED_V2L, S.STOPPING, ("v2l_overloaded",), before="record_v2l_overload"),
    # Backup: the utility fails during v2h -> isolate (K_GRID open, confirmed) -> form the home
    # grid -> wait for the utility to stay normal for the return delay -> synchronise ->
    # reclose K_GRID -> back to v2h, grid-following, without the home going dark.
    T("tick", S.ENERGISED_V2H, S.BACKUP_ISOLATE, ("grid_lost", "backup_allowed"),
      before="record_outage"),
    # From v2g the EV is already discharging (backup allowed, as from v2h); from charge the
    # owner's consent to discharge an EV that was not discharging is backup.from_idle, as from
    # ev_connected. Both cease at once (the grid is dead: no ramp) and form as from v2h.
    T("tick", S.ENERGISED_V2G, S.BACKUP_ISOLATE, ("grid_lost", "backup_allowed"),
      before="record_outage"),
    T("tick", S.ENERGISED_CHARGE, S.BACKUP_ISOLATE, ("grid_lost", "backup_from_idle_allowed"),
      before="record_outage"),
    # A stop from backup ceases the forming inverter first (stopping_ramp), then opens at low
    # DC current: never ceasing and opening in the same tick.
    T("tick", S.BACKUP, S.STOPPING_RAMP, ("backup_reserve_reached",),
      before="record_backup_reserve"),
    T("tick", S.BACKUP_ISOLATE, S.BACKUP_ISLAND, ("grid_open_confirmed",)),
    T("tick", S.BACKUP_ISLAND, S.BACKUP_WAIT_FOR_GRID, ("grid_normal",)),
    T("tick", S.BACKUP_WAIT_FOR_GRID, S.BACKUP_ISLAND, unless=("grid_normal",)),
    T("tick", S.BACKUP_WAIT_FOR_GRID, S.BACKUP_RESYNC, ("return_delay_passed",)),
    T("tick", S.BACKUP_RESYNC, S.BACKUP_ISLAND, unless=("grid_normal",)),
    T("tick", S.BACKUP_RESYNC, S.BACKUP_RECONNECT, ("inverter_synced",)),
    T("tick", S.BACKUP_RESYNC, S.STOPPING_RAMP, ("sync_expired",),
      before="record_sync_timeout"),
    T("tick", S.BACKUP_RECONNECT, S.ENERGISED_V2H, ("grid_closed_confirmed",)),
    # An inverter that cannot be trusted to take the power away (controller/faults.py,
    # UNTRUSTED_INVERTER): disable it and open the AC side first; K_DC opens once its current
    # is low, or as the last resort (recorded as a hot open). Before any other stop.
    T("tick", S.ENERGISED, S.STOPPING_ISOLATE, ("inverter_untrusted",), before="record_untrusted"),
    T("tick", S.BACKUP, S.STOPPING_ISOLATE, ("inverter_untrusted",), before="record_untrusted"),
    T("tick", S.STOPPING_RAMP, S.STOPPING_ISOLATE, ("inverter_untrusted",),
      before="record_untrusted"),
    T("tick", S.STOPPING_ISOLATE, S.STOPPING_OPEN, ("dc_current_low",)),
    T("tick", S.STOPPING_ISOLATE, S.STOPPING_OPEN, ("isolation_expired",),
      before="record_last_resort"),
    T("tick", S.ENERGISED, S.STOPPING, ("stop_needed",)),
    T("tick", S.ENERGISED_CHARGE, S.ENERGISED_V2H, ("wants_v2h", "power_at_zero")),
    T("tick", S.ENERGISED_CHARGE, S.ENERGISED_V2G, ("wants_v2g", "power_at_zero")),
    T("tick", S.ENERGISED_V2H, S.ENERGISED_CHARGE, ("wants_charge", "power_at_zero")),
    T("tick", S.ENERGISED_V2H, S.ENERGISED_V2G, ("wants_v2g", "power_at_zero")),
    T("tick", S.ENERGISED_V2G, S.ENERGISED_CHARGE, ("wants_charge", "power_at_zero")),
    T("tick", S.ENERGISED_V2G, S.ENERGISED_V2H, ("wants_v2h", "power_at_zero")),
    T("tick", S.STOPPING_RAMP, S.STOPPING_OPEN, ("ramp_done",), before="record_ramp_done"),
    T("tick", S.STOPPING_OPEN, S.STOPPING_WELD_CHECK, ("all_open_confirmed",)),
    T("tick", S.STOPPING_WELD_CHECK, S.IDLE, ("dc_proven_open",), before="record_dc_isolation"),
    T("tick", S.STOPPING_WELD_CHECK, S.FAULT, ("weld_check_expired",),
      before="record_weld_after_opening"),
    T("trip", ANY, S.FAULT, unless=("in_latched_state",)),
    T("emergency_stop", ANY, S.ESTOP, unless=("in_estop",)),
    T("reset", S.FAULT, S.SELFTEST, ("reset_allowed",), before="record_reset"),
    T("reset", S.ESTOP, S.SELFTEST, ("reset_allowed",), before="record_reset"),
)
