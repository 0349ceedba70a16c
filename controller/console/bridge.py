"""The console's only way to the supervisor: requests through arbitration, reads of its state.

Everything here runs in the control loop's thread (``ConsoleServer.on_tick``), so the
supervisor, which is not thread-safe, is never touched from anywhere else. Nothing here drives
an output: modes and power are claims the arbiter may refuse, a reset is a request the loop
grants only when nothing is present, and a contactor test is a request the mode machine runs
in its ``service_test`` state, or refuses.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from controller.config.model import Config
from controller.console.roles import SOURCE_OF_ROLE, Role
from controller.dispatch.arbitration import Decision
from controller.faults import CATALOGUE
from controller.measurement.calibration import ANALOG_PREFIX, METER_CHANNELS
from controller.modes.states import LATCHED, State
from controller.store.calibration_store import CalibrationStore
from controller.store.state_store import StoredEvent
from controller.supervisor.loop import SAFE_STATES, Supervisor
from controller.values.status import Status


class SupervisorBridge:
    def __init__(self, supervisor: Supervisor) -> None:
        self._sup = supervisor
        self._calibrations: CalibrationStore | None = None

    @property
    def config(self) -> Config:
        return self._sup.config

    def now(self) -> float:
        return self._sup.clock.now()

    def wall_time(self) -> float:
        return self._sup.clock.wall_time()

    @property
    def state(self) -> str:
        return self._sup.modes.state

    def de_energised(self) -> bool:
        """Idle or latched with every output in its safe position."""
        return self._sup.state in SAFE_STATES and self._sup.plan.is_safe()

    def status(self) -> Status:
        return self._sup.status()

    # ----- requests ----------------------------------------------------------------------
    def claim(self, role: Role, mode: str | None, power_w: float | None) -> Decision:
        return self._sup.claim(SOURCE_OF_ROLE[role], mode, power_w)

    def release(self, role: Role) -> bool:
        return self._sup.release(SOURCE_OF_ROLE[role])

    def holds_claim(self, role: Role) -> bool:
        return SOURCE_OF_ROLE[role] in self._sup.arbiter.claims

    def claimed_mode(self, role: Role) -> str | None:
        """The mode this role's claim states now (None: no claim, or no mode in it)."""
        held = self._sup.arbiter.claims.get(SOURCE_OF_ROLE[role])
        return None if held is None else held.mode

    def claimed_power(self, role: Role) -> float | None:
        """The power limit this role's claim states now, in W (None: no claim or no limit)."""
        held = self._sup.arbiter.claims.get(SOURCE_OF_ROLE[role])
        return None if held is None else held.power_w

    def request_reset(self, role: Role) -> str:
        """Ask for a reset at the next tick as ``role`` (a technician may clear every fault, an
        operator only those an operator may clear: controller/faults.py); the answer says what
        the loop will check."""
        if self._sup.state not in LATCHED:
            return f"nothing is latched (state {self.state}): reset not needed"
        by = "technician" if role >= Role.TECHNICIAN else "operator"
        self._sup.request_reset(by=by)
        return (f"reset requested as {by}: the next tick clears the latched faults if no trip "
                "condition is present (see `log` for the outcome)")

    def contactor_test(self, name: str) -> tuple[bool, str]:
        """Ask the mode machine for a contactor test (controller/modes/service.py): accepted
        with what will happen, or refused with why."""
        names = tuple(self._sup.hw.contactors)
        if name not in names:
            return False, f"contactor {name!r}: must be one of {', '.join(names)}"
        return self._sup.request_contactor_test(name)

    # ----- reads -------------------------------------------------------------------------
    def events(self, limit: int) -> list[StoredEvent]:
        return self._sup.store.events(limit)

    def faults(self) -> list[dict[str, Any]]:
        rows = []
        for fault in self._sup.store.active_faults():
            kind = CATALOGUE.get(fault.code)
            rows.append({"code": fault.code, "detail": fault.detail,
                         "wall_time": fault.wall_time,
                         "severity": kind.severity.value if kind else "unknown",
                         "check": kind.check if kind else ""})
        return rows

    def limits(self) -> dict[str, Any]:
        cfg = self._sup.config
        snap = self._sup.last_snapshot
        ev = snap.ev if snap is not None else None
        return {
            "config": asdict(cfg.limits),
            "inverter_rated_power_w": cfg.inverter.rated_power_w,
            "inverter_max_dc_current_a": cfg.inverter.max_dc_current_a,
            "v2l_rated_power_w": cfg.v2l.rated_power_w,
            "reserve_soc_pct": cfg.v2h.reserve_soc_pct,
            "backup_reserve_soc_pct": cfg.backup.reserve_soc_pct,
            "ev": None if ev is None else {
                "max_battery_voltage_v": ev.max_battery_voltage_v,
                "charge_current_request_a": ev.charge_current_request_a,
                "max_discharge_current_a": ev.max_discharge_current_a,
                "min_discharge_soc_pct": ev.min_discharge_soc_pct,
                "discharge_compatible": ev.discharge_compatible},
            "power_limit_w": self._sup.resolution.power_w,
            "power_limit_source": self._sup.resolution.power_source,
        }

    def selftest(self) -> list[tuple[str, bool, str]]:
        """Checks that read what the loop measured this tick; nothing is energised or driven."""
        sup = self._sup
        snap, now = sup.last_snapshot, self.now()
        if snap is None:
            return [("loop", False, "no tick has run yet")]
        age = sup.config.protection.sensor_max_age_s
        checks = [
            ("loop", sup.healthy, f"{sup.ticks} ticks, {sup.overruns} overruns"),
            ("meter", snap.meter is not None, snap.meter_error or "reading"),
            ("adc", all(snap.analog_value(n, age) is not None for n in snap.analog),
             snap.adc_error or "every channel fresh"),
            ("inverter", snap.inverter is not None,
             f"status {snap.inverter_age_s:.2f} s old, bus {snap.inverter_bus}"),
            ("inverter settings", sup.inverter_settings.verified(now),
             sup.inverter_settings.problem(now) or "read back and verified"),
            ("e-stop loop", snap.inputs.get("estop", False), "closed" if snap.inputs.get(
                "estop", False) else "OPEN"),
            ("door", snap.inputs.get("door", False),
             "closed" if snap.inputs.get("door", False) else "open"),
            ("ev", snap.ev is not None, "reporting" if snap.ev else "no EV frames"),
        ]
        for name, view in snap.contactors.items():
            agrees = view.feedback_closed is None or view.feedback_closed == view.commanded_closed
            checks.append((f"contactor {name}", agrees,
                           f"commanded {'closed' if view.commanded_closed else 'open'}, aux "
                           f"{'n/a' if view.feedback_closed is None else view.feedback_closed}"))
        checks.append(("latched faults", not sup.store.active_faults(),
                       "none" if sup.state not in LATCHED else f"state {sup.state}"))
        return checks

    def temperatures(self) -> dict[str, float | None]:
        """Every ADC channel measuring a temperature (name containing "temp"), in its unit."""
        snap = self._sup.last_snapshot
        if snap is None:
            return {}
        age = self._sup.config.protection.sensor_max_age_s
        return {name: snap.analog_value(name, age) for name in snap.analog if "temp" in name}

    # ----- calibration ---------------------------------------------------------------------
    def calibrations(self) -> CalibrationStore:
        if self._calibrations is None:
            self._calibrations = CalibrationStore(self._sup.store)
        return self._calibrations

    def analog_names(self) -> tuple[str, ...]:
        snap = self._sup.last_snapshot
        return tuple(snap.analog) if snap is not None else ()

    def measured_raw(self, channel: str) -> float | str:
        """What ``channel`` measured at the last tick, uncorrected; or why there is no value.

        The loop's snapshot is corrected by the calibration the supervisor applies
        (``Supervisor.calibration``); that correction is undone here.
        """
        snap = self._sup.last_snapshot
        if snap is None:
            return "no tick has run yet"
        if channel in METER_CHANNELS:
            if snap.meter is None:
                return f"the meter has no reading ({snap.meter_error or 'not read yet'})"
            value = float(getattr(snap.meter, METER_CHANNELS[channel][0]))
        else:
            value_or_none = snap.analog_value(channel.removeprefix(ANALOG_PREFIX),
                                              self._sup.config.protection.sensor_max_age_s)
            if value_or_none is None:
                return f"{channel} has no fresh sample ({snap.adc_error or 'stale'})"
            value = value_or_none
        return self._sup.calibration.raw(channel, value)

    def reload_calibration(self) -> None:
        self._sup.reload_calibration()

    def in_state(self, state: State) -> bool:
        return self._sup.state is state
