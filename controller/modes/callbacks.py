"""The mode machine's callbacks: ``before`` callbacks say why (and note faults the sequence
found), enter callbacks are the only place the output plan changes.

Nothing here calls the supervisor: a fault or a refusal is noted as an intent
(``controller/modes/intents.py``) that the supervisor acts on after the machine's step.
"""

from __future__ import annotations

from typing import Any

from controller.modes.checks import Isolation, dc_isolation
from controller.modes.guards import ISOLATE_SETTLE_S
from controller.modes.guards_stop import StopGuards
from controller.modes.intents import FaultIntent, Refusal
from hal.protocols.inverter_messages import InverterMode


class Callbacks(StopGuards):
    def _fault(self, code: str, detail: str) -> None:
        self.reason = code
        self._faults.append(FaultIntent(code, detail))
        self.pending = True

    # ----- before callbacks (why) ------------------------------------------------------------
    def record_selftest_failure(self, _e: Any) -> None:
        self.reason = "latched faults present at start-up"

    def record_dc_isolation(self, _e: Any) -> None:
        check = dc_isolation(self._c().snapshot, self.config.sequence,
                             self.config.protection.sensor_max_age_s)
        if check.verdict is Isolation.AUX_ONLY:
            self.reason = f"DC contactors {check.verdict.value}: {check.detail}"

    def _record_weld(self, when: str) -> None:
        check = dc_isolation(self._c().snapshot, self.config.sequence,
                             self.config.protection.sensor_max_age_s)
        self._fault("CONTACTOR_WELDED", f"K_DC or the precharge relay not proven open "
                    f"{when} within {self.config.sequence.weld_check_timeout_s} s: "
                    f"{check.detail}")

    def record_weld_before_closing(self, _e: Any) -> None:
        self._record_weld("before closing")

    def record_weld_after_opening(self, _e: Any) -> None:
        self._record_weld("after opening")

    def record_insulation_test_failure(self, _e: Any) -> None:
        self._fault("INSULATION_FAULT", "insulation test before precharge: the insulation "
                    f"monitor did not report OK for {self.config.sequence.insulation_test_s} s "
                    f"within {self.config.sequence.insulation_test_timeout_s} s")

    def record_insulation_retest(self, _e: Any) -> None:
        self.reason = ("the insulation monitor alarmed before K_DC closed (the vehicle closing "
                       "or the precharge): K_PRE open, the insulation test starts again")

    def record_precharge_timeout(self, _e: Any) -> None:
        self._fault("PRECHARGE_TIMEOUT", "DC link did not reach the EV voltage within "
                    f"{self.config.sequence.precharge_timeout_s} s")

    def record_contactor_test(self, _e: Any) -> None:
        response = self.test_response_s
        shown = ("no aux contact fitted" if self._c().snapshot.contactors[
            self.test_contactor or ""].feedback_closed is None
                 else "aux did not follow" if response is None
                 else f"aux followed within {response * 1000:.0f} ms")
        self.reason = f"contactor test of {self.test_contactor} done: {shown}"

    def record_outage(self, _e: Any) -> None:
        mode = self.state.removeprefix("energised_")
        self.reason = f"utility lost during {mode}: isolating the home for backup"

    def record_outage_while_idle(self, _e: Any) -> None:
        self.backup_start = True
        self.reason = ("utility lost with an EV connected (backup.from_idle): isolating the home "
                       "while the DC side starts for backup")

    def record_backup_reserve(self, _e: Any) -> None:
        self.reason = ("backup stopped: the outage reserve "
                       f"({self.config.backup.reserve_soc_pct:.0f} % SoC) is reached, or a stop "
                       "was requested")

    def record_sync_timeout(self, _e: Any) -> None:
        self.reason = (f"no synchronisation with the returned utility within "
                       f"{self.config.backup.sync_timeout_s} s: returning through a stop "
                       "(the home is dark for a moment)")

    def record_v2l_overload(self, _e: Any) -> None:
        self.reason = (f"V2L overload: the outlet drew more than "
                       f"{self.config.v2l.rated_power_w:.0f} W for "
                       f"{self.config.v2l.overload_time_s} s; unplug a load and ask again")
        self._refusals.append(Refusal("v2l", self.reason))
        self.pending = True

    def record_ramp_done(self, e: Any) -> None:
        if not (self.dc_current_low(e) and self.power_at_zero(e)):
            self.reason = "ramp-down timeout: opening under load (hot open recorded)"

    def record_untrusted(self, _e: Any) -> None:
        self.reason = (f"{', '.join(sorted(self.untrusted_codes()))}: inverter disabled, the AC "
                       "side opens first, the DC side once its current is low")

    def record_last_resort(self, _e: Any) -> None:
        """The last resort is an emergency (DC_NOT_ISOLATED): the one case K_DC may open under
        load; the supervisor records the hot open."""
        limit = self.config.sequence.contactor_timeout_s + ISOLATE_SETTLE_S
        current = self.dc_current_a()
        shown = "unknown" if current is None else f"{current:.1f} A"
        self._fault("DC_NOT_ISOLATED", f"DC current {shown}, not below "
                    f"{self.config.sequence.open_below_current_a} A {limit} s after the AC "
                    "side opened with the inverter disabled: K_DC opens under load as the "
                    "last resort")

    def record_reset(self, _e: Any) -> None:
        self.cleared_at = self.t  # the supervisor clears the latched faults after this step

    # ----- enter callbacks: the only place outputs change -----------------------------------
    def on_enter_selftest(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_idle(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_service_test(self, _e: Any) -> None:
        name = self._c().contactor_test
        self.plan.safe()
        if name is not None:
            self.test_contactor = name
            self.test_response_s = None
            self.plan.set(**{name: not self.plan.contactors[name]})  # operate its coil

    def on_enter_ev_connected(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_starting_weldcheck(self, _e: Any) -> None:
        # Everything open while the DC side is proven dead; a cold start for backup keeps K_GRID
        # open (the utility is dead and the home will be islanded).
        self.plan.safe()
        if self.backup_start:
            self.plan.set(grid=False)

    def on_enter_starting_insulation_test(self, _e: Any) -> None:
        self.restart_timer("imd_ok")
        self.plan.set(precharge=False)  # on a retest from the precharge: the DC side opens

    def on_enter_starting_precharge(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.set(precharge=True)

    def on_enter_starting_close_dc(self, _e: Any) -> None:
        self.plan.set(dc=True)

    def on_enter_starting_close_ac(self, e: Any) -> None:
        # K_AC and K_V2L are never commanded closed together (invariant 2).
        if self.wants_v2l(e) and not self.backup_start:
            self.plan.set(precharge=False, ac=False, v2l=True)
        else:
            self.plan.set(precharge=False, v2l=False, ac=True)

    def on_enter_energised(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FOLLOWING
        self.plan.sync_to_grid = False

    def on_enter_energised_v2l(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING  # isolated: K_AC open
        self.restart_timer("overload")

    def on_enter_backup_isolate(self, _e: Any) -> None:
        # Cease first, then open K_GRID (energise its coil): never form onto the utility line.
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(grid=False)

    def on_enter_backup_island(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING
        self.plan.sync_to_grid = False

    def on_enter_backup_resync(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.GRID_FORMING
        self.plan.sync_to_grid = True

    def on_enter_backup_reconnect(self, _e: Any) -> None:
        self.plan.set(grid=True)  # K_GRID's coil drops: it recloses, in phase

    def on_enter_stopping_ramp(self, _e: Any) -> None:
        if self.plan.inverter_mode is InverterMode.GRID_FORMING:
            # A grid-forming source (v2l, backup) has no power setpoint to ramp: the load sets
            # it. Ceasing is its ramp to zero; the contacts then open without current.
            self.plan.inverter_mode = InverterMode.OFF
            self.plan.sync_to_grid = False

    def on_enter_stopping_isolate(self, _e: Any) -> None:
        # The AC side breaks the current (an AC contact interrupts at the zero crossing); the
        # DC contactor waits for its current to fall (``dc_current_low``).
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(ac=False, v2l=False, precharge=False)

    def on_enter_stopping_open(self, _e: Any) -> None:
        self.plan.inverter_mode = InverterMode.OFF
        self.plan.sync_to_grid = False
        self.plan.set(ac=False, dc=False, precharge=False, v2l=False)

    def on_enter_fault(self, _e: Any) -> None:
        self.plan.safe()

    def on_enter_estop(self, _e: Any) -> None:
        self.plan.safe()
