"""The safety invariants of ARCHITECTURE.md section 1, checked against plant truth.

:class:`InvariantChecker` looks at the simulated plant (``SimWorld``), never at what the controller
believes: physical contactor positions, the coil pins, the inverter power stage and the last
command its firmware holds, the EV battery current, the power at the utility meter. Call
:meth:`InvariantChecker.check` after every control tick (``Supervisor.run(on_tick=...)``); it
returns the violations found in that call and accumulates them in ``violations``.

Between two checks it replays the plant's ground-truth records (``world.truth``: ``contactor``,
``hot_open``, ``inverter_mode``, ``estop``, ``export_started`` / ``export_stopped``, all stamped
at plant-step resolution), so a transient that begins and ends between two ticks is still seen.
At each check it also samples the plant directly, which catches states that were forced without
a plant step (unit tests) and keeps its own tracked state in sync. Conditions that persist are
reported once, when they begin (edge-triggered); events (a contactor closing, a hot open) are
reported every time they happen. ``hal`` must not depend on ``controller``: the only input from
the controller is ``controller_latched`` (its state is ``fault`` or ``estop``), and the limits
come in through :class:`InvariantSettings`.

The checks, with the invariant's text:

1. *The inverter forms a grid only while K_GRID is open (never in parallel with the utility).*
   Violation: the inverter power stage is ``grid-forming`` while contactors ``grid`` and ``ac``
   are both physically closed, at any truth record or at the check. Forming with K_AC open feeds
   only the V2L outlet, which is isolated from the home and the utility: not parallel. The plant
   step in which a synchronised K_GRID closure hands the home back to the utility (the plant's
   ``synchronised_closure`` record) is the handover itself and not judged.

2. *K_AC and K_V2L are never closed together.*
   Violation: contactors ``ac`` and ``v2l`` are both physically closed, at any truth record or at
   the check.

3. *A latched fault or E-stop commands every contactor open and the inverter off within one
   control tick, and nothing re-energises until an explicit reset.*
   The latched condition is ``controller_latched`` or the E-stop pressed in the plant; it begins
   at the E-stop's truth record, otherwise at the first check that sees it. At every check at
   least ``tick_s`` after it began, while it lasts: every contactor coil pin is de-energised, the
   command the inverter firmware holds is OFF or disabled (or None: timed out, ceased), and the
   power stage is off with zero AC power. At every check at least
   ``tick_s + contactor_settle_s + plant_step_s`` after it began, every contactor (except one
   the plant has welded) is in its de-energised position (normally-closed K_GRID closed, every
   other one open). Because the conditions are checked at every tick until the latch ends, a
   coil that re-energises while latched is reported. (That the latch ends only on an explicit
   reset is the controller's state logic; the property tests check it separately.)

4. *K_GRID recloses only after the enter-service criteria hold and the inverter is off or in
   sync.* Violation: contactor ``grid`` physically goes from open to closed while the inverter is
   ``grid-forming`` (the mode it had in the plant step before the contacts closed), unless the
   plant recorded the closure as synchronised (within 20 degrees, the inverter reporting sync:
   ``synchronised_closure``). A
   grid-following inverter follows the utility and is in sync by construction; the utility's
   enter-service window is the controller's protection logic and is not judged here.

5. *No discharge below the reserve state of charge; no current above the smallest of the EV,
   inverter, cable and thermal limits.* Violations, sampled at each check: with ``dc`` closed and
   the EV plugged in, a discharge current above ``discharge_threshold_a`` (1 A) while the EV's
   true SoC is below ``reserve_soc_pct - reserve_margin_pct`` (0.5 %) - or, while the inverter
   forms the home's island with K_GRID open (backup through an outage, the one
   non-discretionary discharge), below ``backup_reserve_soc_pct`` (lower, "so an outage may use
   more") minus the same margin; a battery current above
   ``max_charge_current_a`` or ``max_discharge_current_a`` (each already the smallest of the EV's
   own limit, the cable and the inverter DC rating) by more than ``current_margin`` (2 %). The
   precharge inrush (``dc`` open) is not a discharge of the battery into the home; it is still
   held to the current limits. The simulator has no thermal derating, so there is no thermal
   limit to check.

6. *Export only in v2g, only while protection is healthy and no island is suspected.* Unless
   the caller says export is allowed (``check(export_allowed=True)``: the controller is in v2g
   or ramping down from it with a healthy grid), power into the utility above
   ``export_fraction`` (1 %) of the inverter rating for longer than ``export_max_s`` (0.25 s) is
   a violation: a home load that drops faster than any controller can see causes a short export
   that the plant cannot avoid, so only a sustained one counts. Episodes are timed from the
   plant's ``export_started`` / ``export_stopped`` records; an export that began while it was
   allowed is timed from the first check that no longer allows it (a v2g session that trips
   must stop exporting within ``export_max_s``). Truth records between two checks are judged
   with the permission given at the earlier one (the controller's state in between).

7. *DC contactors close only after a passed insulation test and precharge to within the configured
   voltage of the EV battery, and open under load only in an emergency.* Violations: contactor
   ``dc`` physically closes while the EV is plugged in and ``|dc_link_v - battery terminal
   voltage| > precharge_tolerance_v + precharge_margin_v`` (5 V). The plant overwrites the link
   voltage in the very step the contacts close, so "at that moment" is the sample taken at the
   previous check, at most one tick before the contacts moved; during a precharge the difference
   only shrinks, so that sample bounds the difference at the closing from above. With no EV
   plugged in there is no battery to precharge against and the closing is not judged. ``dc``
   opening with ``|battery current| > hot_open_current_a`` (2 A: the plant's ``hot_open``
   record) is a violation unless an emergency existed: the latched condition of check 3 held at
   the previous check, or the E-stop was pressed when the contacts opened. The insulation test:
   ``dc`` or ``precharge`` commanded closed while the EV is plugged in, when the plant's
   insulation (what
   the insulation monitor sees) has not been healthy for ``insulation_test_s`` at the checks
   before it (one tick of slack: checks are per tick), is a violation. This is judged when the
   controller *commands* the closing (the coil is energised: the decision point), not when the
   contacts touch a coil delay later.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hal.protocols.inverter_messages import InverterMode
from hal.sim.power_flow import EXPORT_THRESHOLD_FRACTION
from hal.sim.world import HOT_OPEN_CURRENT_A, SimWorld
from simulation.ev_invariants import EvConnectorCheck

GRID_FORMING = "grid-forming"
_EPS_S = 1e-9
# Contactors that invariant 4 and 7 watch for closing (open -> closed).
_WATCHED_CLOSES = ("grid", "dc", "precharge")


class ControllerHotOpen(Protocol):
    """The controller's own record of commanding K_DC open under load (``HotOpen`` in
    ``controller/supervisor/hot_open.py``); the plant may not show it when the inverter ceased in
    the same step, so invariant 7 also reads this record."""

    @property
    def t(self) -> float: ...
    @property
    def emergency(self) -> bool: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant: when (plant time), which (1-7) and what exactly."""

    t: float
    invariant: int
    text: str

    def __str__(self) -> str:
        return f"t={self.t:.3f} s: invariant {self.invariant}: {self.text}"


@dataclass(frozen=True)
class InvariantSettings:
    """What the checker needs to know; build it from the controller config and the plant."""

    tick_s: float
    """Control loop period: the latch must reach the outputs within one tick (invariant 3)."""
    precharge_tolerance_v: float
    """The configured precharge tolerance (invariant 7)."""
    reserve_soc_pct: float
    """The discretionary reserve state of charge: v2h, v2g, v2l (invariant 5)."""
    max_charge_current_a: float
    """Smallest of the EV's charge current limit, the cable and the inverter DC rating."""
    max_discharge_current_a: float
    """Smallest of the EV's discharge current limit, the cable and the inverter DC rating."""
    inverter_rated_power_w: float
    """Sets the export threshold (invariant 6)."""
    export_allowed: bool = False
    """Export always allowed (per tick, pass ``check(export_allowed=...)`` instead)."""
    backup_reserve_soc_pct: float | None = None
    """The reserve while the inverter carries the islanded home through an outage (backup);
    None: ``reserve_soc_pct`` applies there too."""
    insulation_test_s: float = 0.0
    """How long the insulation must have been healthy before a DC-side contactor closes
    (invariant 7; 0 = not checked)."""
    contactor_settle_s: float = 0.030
    """The longest contactor operating time (open or close delay) in the plant."""
    plant_step_s: float = 0.005
    """The plant's integration step: one step of slack for coil pins to reach the contacts."""
    precharge_margin_v: float = 5.0
    reserve_margin_pct: float = 0.5
    discharge_threshold_a: float = 1.0
    current_margin: float = 0.02
    export_fraction: float = EXPORT_THRESHOLD_FRACTION
    export_max_s: float = 0.25
    hot_open_current_a: float = HOT_OPEN_CURRENT_A

    @classmethod
    def for_world(cls, world: SimWorld, *, tick_s: float, precharge_tolerance_v: float,
                  reserve_soc_pct: float, cable_max_current_a: float,
                  inverter_max_dc_current_a: float, export_allowed: bool = False,
                  backup_reserve_soc_pct: float | None = None,
                  insulation_test_s: float = 0.0) -> InvariantSettings:
        """Settings from the controller's numbers plus what the plant itself defines."""
        p = world.params
        return cls(
            tick_s=tick_s, precharge_tolerance_v=precharge_tolerance_v,
            reserve_soc_pct=reserve_soc_pct,
            max_charge_current_a=min(p.battery.max_charge_current_a, cable_max_current_a,
                                     inverter_max_dc_current_a),
            max_discharge_current_a=min(p.battery.max_discharge_current_a,
                                        cable_max_current_a, inverter_max_dc_current_a),
            inverter_rated_power_w=p.inverter.rated_power_w, export_allowed=export_allowed,
            backup_reserve_soc_pct=backup_reserve_soc_pct, insulation_test_s=insulation_test_s,
            contactor_settle_s=max(p.contactor.close_delay_s, p.contactor.open_delay_s),
            plant_step_s=p.plant_step_s)


@dataclass(frozen=True, slots=True)
class _DcSample:
    """The DC side at one check: what a closing ``dc`` contactor would connect."""

    link_v: float
    battery_v: float | None  # None: no EV plugged in


class InvariantChecker:
    """Checks invariants 1-7 against the plant after every control tick (see the module doc),
    and invariant 8, the EV connector (``simulation/ev_invariants.py``)."""

    def __init__(self, world: SimWorld, settings: InvariantSettings) -> None:
        self.world = world
        self.settings = settings
        self.violations: list[Violation] = []
        self._cursor = len(world.truth.events)
        self._active: set[str] = set()
        # State replayed from truth records (synced to the plant at every check).
        self._closed = {name: c.closed for name, c in world.contactors.items()}
        self._mode = world.inverter.mode_name
        self._estop = world.estop_pressed
        self._estop_pressed_at: float | None = None
        # The previous check's sample.
        self._sample_closed = dict(self._closed)
        self._sample_mode = self._mode
        self._sample_dc = self._dc_sample()
        self._insulated_since: float | None = None if self._insulation_faulted() else -math.inf
        self._latched_since: float | None = None
        self._latched_at_last_check = False
        self._last_check_t: float | None = None
        self._controller_hot_opens_seen = 0
        # Since when export has been forbidden without a break (None: allowed now). An export
        # that began while it was allowed is timed from the moment it stopped being allowed.
        self._forbidden_since: float | None = None if settings.export_allowed else -math.inf
        self._handover_t: float | None = None  # a synchronised K_GRID closure (backup return)
        self._export_since: float | None = None
        self._export_reported = False
        self._ev = EvConnectorCheck(world)  # invariant 8, the EV connector (issue 19)
        # The MockPin objects, looked up once (the factory's lookup is slow).
        self._coil_was: dict[str, bool] = {}
        self._coil_pins = {name: world.factory.pin(getattr(world.hal.gpio.contactors,
                                                           name).coil_pin)
                           for name in world.contactors}

    # ----- the check --------------------------------------------------------------------------
    def check(self, now: float, controller_latched: bool,
              export_allowed: bool = False) -> list[Violation]:
        """Check everything that happened since the last call; call after every control tick.

        ``export_allowed``: the controller is in a mode that may export (v2g, or the ramp-down
        that ends it); the grid's health is judged by the controller's protection, not here.
        """
        found: list[Violation] = []
        # Truth records since the last check are judged with the permission given then: the
        # controller's state after the previous tick is what held in between.
        closes_seen = self._replay(found)
        self._sync_and_sample(now, found, closes_seen)
        self._check_latch(now, controller_latched, found)
        self._check_battery(now, found)
        if export_allowed or self.settings.export_allowed:
            self._forbidden_since = None
            self._export_reported = False
        elif self._forbidden_since is None:
            self._forbidden_since = now
        self._check_export(now, found)
        self._ev.check(now, lambda t, n, text: self._report(found, t, n, text),  # invariant 8
                       self._latched_since is not None or self._estop)
        for name in ("dc", "precharge"):  # invariant 7's insulation test, at the command
            coil = bool(self._coil_pins[name].state)
            if coil and not self._coil_was.get(name, False):
                self._check_insulation_test(found, now, name)
            self._coil_was[name] = coil
        self._sample_closed = dict(self._closed)
        self._sample_mode = self._mode
        self._sample_dc = self._dc_sample()
        if self._insulation_faulted():
            self._insulated_since = None
        elif self._insulated_since is None:
            self._insulated_since = now
        self._latched_at_last_check = self._latched_since is not None
        self._last_check_t = now
        self.violations.extend(found)
        return found

    def check_controller_record(self, hot_opens: Sequence[ControllerHotOpen]) -> list[Violation]:
        """Invariant 7 from the controller's own record (call after every tick with the whole
        list; each record is judged once): K_DC commanded open under load outside an emergency
        is a violation even when the plant recorded nothing."""
        found = [Violation(h.t, 7, f"the controller recorded a hot open outside an emergency: "
                           f"{h.text}")
                 for h in hot_opens[self._controller_hot_opens_seen:] if not h.emergency]
        self._controller_hot_opens_seen = len(hot_opens)
        self.violations.extend(found)
        return found

    # ----- helpers ----------------------------------------------------------------------------
    def _report(self, found: list[Violation], t: float, invariant: int, text: str) -> None:
        found.append(Violation(t, invariant, text))

    def _edge(self, found: list[Violation], key: str, active: bool, t: float, invariant: int,
              text: str | Callable[[], str]) -> None:
        """Report a persisting condition once, when it begins; re-arm when it ends. ``text``
        may be a function: checked every tick, the message is formatted only when reported."""
        if not active:
            self._active.discard(key)
        elif key not in self._active:
            self._active.add(key)
            self._report(found, t, invariant, text if isinstance(text, str) else text())

    def _insulation_faulted(self) -> bool:
        return bool(self.world.interlocks.insulation_fault)

    def _dc_sample(self) -> _DcSample:
        w = self.world
        return _DcSample(w.dc_link_v, w.battery.terminal_v() if w.ev_plugged else None)

    def _structural(self, found: list[Violation], t: float) -> None:
        """Invariants 1 and 2 on the tracked physical state."""
        k = self._closed
        # Forming with K_AC open feeds only the isolated V2L outlet; the instant of a
        # synchronised reclosure (the inverter hands over to the utility) is not parallel.
        parallel = (self._mode == GRID_FORMING and k["grid"] and k["ac"]
                    and t != self._handover_t)
        self._edge(found, "1", parallel, t, 1,
                   "inverter is grid-forming while K_GRID is closed (parallel with the utility)")
        self._edge(found, "2", k["ac"] and k["v2l"], t, 2, "K_AC and K_V2L are both closed")

    def _on_close(self, found: list[Violation], t: float, name: str, mode_before: str) -> None:
        """Invariants 4 and 7 for one contactor closing (open -> closed)."""
        if name == "grid" and mode_before == GRID_FORMING and t != self._handover_t:
            self._report(found, t, 4, "K_GRID closed onto a grid-forming inverter out of sync")
        if name == "dc":
            sample = self._sample_dc
            if sample.battery_v is None:
                return
            diff = abs(sample.link_v - sample.battery_v)
            allowed = self.settings.precharge_tolerance_v + self.settings.precharge_margin_v
            if diff > allowed:
                self._report(found, t, 7, (
                    f"K_DC closed without precharge: DC link {sample.link_v:.1f} V vs battery "
                    f"{sample.battery_v:.1f} V (|diff| {diff:.1f} V > {allowed:.1f} V)"))

    def _check_insulation_test(self, found: list[Violation], t: float, name: str) -> None:
        need = self.settings.insulation_test_s
        if need <= 0.0 or not self.world.ev_plugged:
            return
        since = self._insulated_since
        healthy_for = -math.inf if since is None else t - since
        if healthy_for < need - self.settings.tick_s - _EPS_S:
            shown = "not healthy" if since is None else f"healthy for only {healthy_for:.3f} s"
            self._report(found, t, 7, (
                f"K_{name.upper()} commanded closed without a passed insulation test: insulation "
                f"{shown} "
                f"(the test needs {need} s)"))

    # ----- replay of truth records ------------------------------------------------------------
    def _replay(self, found: list[Violation]) -> set[str]:
        events = self.world.truth.events
        closes_seen: set[str] = set()
        for event in events[self._cursor:]:
            d = event.details
            if event.kind == "contactor":
                name, closed = str(d["name"]), bool(d["closed"])
                was = self._closed.get(name, closed)
                self._closed[name] = closed
                if closed and not was:
                    closes_seen.add(name)
                    self._on_close(found, event.t, name, self._mode)
                self._structural(found, event.t)
            elif event.kind == "synchronised_closure":
                self._handover_t = event.t  # recorded just before the closing itself
            elif event.kind == "inverter_mode":
                self._mode = str(d["mode"])
                self._structural(found, event.t)
            elif event.kind == "estop":
                self._estop = bool(d["pressed"])
                if self._estop:
                    self._estop_pressed_at = event.t
            elif event.kind == "hot_open":
                if not (self._latched_at_last_check or self._estop):
                    self._report(found, event.t, 7, (
                        f"K_DC opened under load ({d.get('current_a')} A) outside an "
                        "emergency (no latched fault, E-stop not pressed)"))
            elif event.kind == "export_started":
                self._export_since = event.t
                self._export_reported = False
            elif event.kind == "export_stopped":
                start = self._unpermitted_start()
                if (start is not None and not self._export_reported
                        and event.t - start > self.settings.export_max_s + _EPS_S):
                    self._report(found, event.t, 6, (
                        f"exported to the utility for {event.t - start:.3f} s "
                        f"(> {self.settings.export_max_s} s) with no mode allowing export"))
                self._export_since = None
                self._export_reported = False
        self._cursor = len(events)
        return closes_seen

    def _sync_and_sample(self, now: float, found: list[Violation], closes_seen: set[str]) -> None:
        """Resync to the plant as it is now; judge closings that left no truth record."""
        w = self.world
        self._closed = {name: c.closed for name, c in w.contactors.items()}
        self._mode = w.inverter.mode_name
        self._estop = w.estop_pressed
        for name in _WATCHED_CLOSES:
            if (name not in closes_seen and self._closed[name]
                    and not self._sample_closed[name]):
                self._on_close(found, now, name, self._sample_mode)
        self._structural(found, now)

    # ----- invariant 3 ------------------------------------------------------------------------
    def _check_latch(self, now: float, controller_latched: bool, found: list[Violation]) -> None:
        w, s = self.world, self.settings
        latched = controller_latched or w.estop_pressed
        if not latched:
            self._latched_since = None
            for key in ("3-coils", "3-command", "3-inverter", "3-contacts"):
                self._active.discard(key)
            return
        if self._latched_since is None:
            start = now
            pressed_at = self._estop_pressed_at
            if (w.estop_pressed and pressed_at is not None
                    and (self._last_check_t is None or pressed_at >= self._last_check_t)):
                start = min(now, pressed_at)  # pressed since the last check: from the press
            self._latched_since = start
        age = now - self._latched_since
        why = "E-stop pressed" if w.estop_pressed else "controller latched"
        if age < s.tick_s - _EPS_S:
            return
        energised = sorted(name for name, pin in self._coil_pins.items() if pin.state)
        self._edge(found, "3-coils", bool(energised), now, 3, lambda: (
            f"{why} {age:.3f} s ago but coils still energised: {', '.join(energised)}"))
        command = w.inverter_port.command(now)
        running = (command is not None and command.enable
                   and command.mode is not InverterMode.OFF)
        self._edge(found, "3-command", running, now, 3,
                   lambda: f"{why} {age:.3f} s ago but the inverter still holds command {command}")
        inverter_on = w.inverter.mode_name != "off" or w.inverter.ac_power_w != 0.0
        self._edge(found, "3-inverter", inverter_on, now, 3, lambda: (
            f"{why} {age:.3f} s ago but the inverter is {w.inverter.mode_name} at "
            f"{w.inverter.ac_power_w:.0f} W"))
        if age < s.tick_s + s.contactor_settle_s + s.plant_step_s - _EPS_S:
            return
        wrong = sorted(name for name, c in w.contactors.items()
                       if c.closed != c.normally_closed and not c.welded)
        self._edge(found, "3-contacts", bool(wrong), now, 3, lambda: (
            f"{why} {age:.3f} s ago but contacts not in their de-energised position: "
            f"{', '.join(wrong)}"))

    # ----- invariant 5 ------------------------------------------------------------------------
    def _check_battery(self, now: float, found: list[Violation]) -> None:
        w, s = self.world, self.settings
        current = w.battery.current_a if w.ev_plugged else 0.0
        soc = w.battery.soc_pct
        k = self._closed
        islanded = self._mode == GRID_FORMING and k["ac"] and not k["grid"]
        backup_reserve = s.backup_reserve_soc_pct
        backup = islanded and backup_reserve is not None
        reserve = backup_reserve if islanded and backup_reserve is not None else s.reserve_soc_pct
        below_reserve = (k["dc"] and -current > s.discharge_threshold_a
                         and soc < reserve - s.reserve_margin_pct)
        self._edge(found, "5-reserve", below_reserve, now, 5, lambda: (
            f"discharging {-current:.1f} A at SoC {soc:.2f} % "
            f"({'backup ' if backup else ''}reserve {reserve} %)"))
        charge_cap = s.max_charge_current_a * (1.0 + s.current_margin)
        self._edge(found, "5-charge", current > charge_cap, now, 5, lambda: (
            f"charge current {current:.1f} A above the limit {s.max_charge_current_a:.1f} A"))
        discharge_cap = s.max_discharge_current_a * (1.0 + s.current_margin)
        self._edge(found, "5-discharge", -current > discharge_cap, now, 5, lambda: (
            f"discharge current {-current:.1f} A above the limit "
            f"{s.max_discharge_current_a:.1f} A"))

    # ----- invariant 6 ------------------------------------------------------------------------
    def _unpermitted_start(self) -> float | None:
        """When the current export episode began to be unpermitted (None: none, or allowed)."""
        if self._export_since is None or self._forbidden_since is None:
            return None
        return max(self._export_since, self._forbidden_since)

    def _check_export(self, now: float, found: list[Violation]) -> None:
        s = self.settings
        exporting = -self.world.grid_import_w > s.export_fraction * s.inverter_rated_power_w
        if not exporting:
            self._export_since = None
            self._export_reported = False
            return
        if self._export_since is None:
            self._export_since = now
        start = self._unpermitted_start()
        if start is None:
            return
        duration = now - start
        if not self._export_reported and duration > s.export_max_s + _EPS_S:
            self._export_reported = True
            self._report(found, now, 6, (
                f"exporting {-self.world.grid_import_w:.0f} W to the utility for "
                f"{duration:.3f} s (> {s.export_max_s} s) with no mode allowing export"))
