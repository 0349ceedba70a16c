"""A confirmed contact that changes without a command is an emergency in the tick that sees it.

Issue 15 item 5: K_GRID dropping closed during backup (its coil circuit opens) was noticed only
after ``sequence.contactor_timeout_s`` (0.56 s): the inverter kept forming into the dead utility
line (invariants 1 and 4), or closed out of phase onto the returned utility. The verdicts here
come from the plant (the invariant checker, truth records) and from what the controller
recorded (its trip log and latched faults).
"""

from __future__ import annotations

from collections.abc import Callable

from controller.modes.states import LATCHED, State
from controller.protection.contactor_feedback import ContactorFeedbackMonitor
from controller.protection.monitor import ProtectionInput
from controller.values.snapshot import ContactorView, Snapshot
from harness import Charger
from simulation.fault_injection import inject
from simulation.invariants import InvariantChecker, InvariantSettings

TICK_S = 0.02
# From the contacts moving to the inverter off in the plant: the aux is read at the next tick
# (at most one tick later), that tick commands the inverter off; the plant applies it within one
# plant step (5 ms).
CEASE_DEADLINE_S = TICK_S + 0.005 + 1e-6


def _checker(c: Charger) -> InvariantChecker:
    cfg = c.config
    settings = InvariantSettings.for_world(
        c.world, tick_s=cfg.control.tick_s,
        precharge_tolerance_v=cfg.sequence.precharge_tolerance_v,
        reserve_soc_pct=cfg.v2h.reserve_soc_pct,
        cable_max_current_a=cfg.limits.cable_max_current_a,
        inverter_max_dc_current_a=cfg.inverter.max_dc_current_a,
        backup_reserve_soc_pct=cfg.backup.reserve_soc_pct)
    return InvariantChecker(c.world, settings)


def _to_backup_island(c: Charger) -> None:
    c.world.home.load_w = 2000.0
    c.request("v2h", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_V2H, limit_s=6.0)
    c.run(0.5)
    c.world.outage()
    c.run_until(lambda: c.state is State.BACKUP_ISLAND, limit_s=3.0)
    c.run(0.5)


def _drop_grid_and_watch(c: Charger) -> tuple[float, float, list[str]]:
    """Open K_GRID's coil circuit; returns (contacts closed at, inverter stopped forming at,
    invariant 1/4 violations) from plant truth."""
    checker = _checker(c)
    t0 = c.now
    inject(c.world, "contactor_fail_close", {"contactor": "grid"})
    c.sup.run(duration_s=1.0, on_tick=lambda s: checker.check(
        c.now, s.state in LATCHED))
    closed = [e.t for e in c.world.truth.of_kind("contactor")
              if e.t >= t0 and e.details["name"] == "grid" and e.details["closed"]]
    ceased = [e.t for e in c.world.truth.of_kind("inverter_mode")
              if e.t >= t0 and e.details["mode"] != "grid-forming"]
    assert closed and ceased, (closed, ceased)
    return closed[0], ceased[0], [str(v) for v in checker.violations if v.invariant in (1, 4)]


def test_k_grid_dropping_closed_in_the_island_stops_the_inverter_within_one_tick(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger({"backup": {"return_delay_s": 600.0}})
    _to_backup_island(c)
    trips_before = len(c.sup.trip_log)
    closed_at, ceased_at, violations = _drop_grid_and_watch(c)
    # The plant: the inverter formed onto the dead utility line for at most one tick.
    assert ceased_at - closed_at <= CEASE_DEADLINE_S, (closed_at, ceased_at)
    # The checker sees the parallel operation itself, at once (it is the fault, not the
    # controller's doing) ...
    assert f"t={closed_at:.3f} s: invariant 1: inverter is grid-forming while K_GRID is closed " \
        "(parallel with the utility)" in violations, violations
    # ... and the controller recorded it as an emergency in the tick that read it.
    first = c.sup.trip_log[trips_before]
    assert first.function == "CONTACTOR_FEEDBACK", c.sup.trip_log[trips_before:]
    assert first.t - closed_at <= TICK_S + 1e-6
    assert "grid" in first.detail and "no command" in first.detail
    assert c.state in LATCHED
    assert "CONTACTOR_FEEDBACK" in {f.code for f in c.store.active_faults()}


def test_k_grid_dropping_closed_with_the_utility_back_ceases_at_once(
        make_charger: Callable[..., Charger]) -> None:
    """The utility returns (at an unrelated phase) while the EV still forms the home: K_GRID
    closing by itself is the out-of-phase closure; the controller ceases within one tick."""
    c = make_charger({"backup": {"return_delay_s": 600.0}})
    _to_backup_island(c)
    c.world.restore_grid()
    c.run_until(lambda: c.state is State.BACKUP_WAIT_FOR_GRID, limit_s=2.0)
    c.run(0.2)
    closed_at, ceased_at, _ = _drop_grid_and_watch(c)
    assert ceased_at - closed_at <= CEASE_DEADLINE_S, (closed_at, ceased_at)
    assert any(t.function == "CONTACTOR_FEEDBACK" for t in c.sup.trip_log)
    assert c.state in LATCHED


def test_a_confirmed_closed_contactor_that_drops_out_trips_in_the_next_tick(
        make_charger: Callable[..., Charger]) -> None:
    """Every contactor, not just K_GRID: K_DC's coil circuit opens while charging."""
    c = make_charger()
    c.request("charge", 5000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=6.0)
    c.run(0.5)
    t0 = c.now
    inject(c.world, "contactor_fail_close", {"contactor": "dc"})
    c.run_until(lambda: bool(c.sup.trip_log), limit_s=0.2)
    opened = [e.t for e in c.world.truth.of_kind("contactor")
              if e.t >= t0 and e.details["name"] == "dc" and not e.details["closed"]]
    assert c.sup.trip_log[0].function == "CONTACTOR_FEEDBACK"
    assert c.sup.trip_log[0].t - opened[0] <= TICK_S + 1e-6


# ----- the monitor on its own (pure logic, snapshots built by hand) -----------------------------

def _snap(t: float, commanded: bool, feedback: bool | None) -> ProtectionInput:
    return ProtectionInput(Snapshot(t=t, meter=None, meter_error=None, analog={}, adc_error=None,
                                    contactors={"ac": ContactorView.of(commanded, feedback)},
                                    inputs={}, inverter=None, inverter_age_s=0.0, ev=None))


def test_monitor_trips_on_the_first_read_of_an_uncommanded_close() -> None:
    monitor = ContactorFeedbackMonitor(timeout_s=0.5)
    assert monitor.update(_snap(0.00, False, False)).trips == ()
    assert monitor.update(_snap(0.02, False, False)).trips == ()  # confirmed open (two reads)
    trips = monitor.update(_snap(0.04, False, True)).trips
    assert [t.code for t in trips] == ["CONTACTOR_FEEDBACK"]
    assert "closed with no command" in trips[0].detail


def test_monitor_is_not_fooled_by_a_bounce_before_confirmation() -> None:
    """A commanded change may bounce: a contact is confirmed only once two consecutive reads
    (one tick apart) agree with the command, and until then the timeout applies."""
    monitor = ContactorFeedbackMonitor(timeout_s=0.5)
    monitor.update(_snap(0.00, False, False))
    monitor.update(_snap(0.02, False, False))
    assert monitor.update(_snap(0.04, True, False)).trips == ()  # commanded closed, coil delay
    assert monitor.update(_snap(0.06, True, True)).trips == ()  # first closed read
    assert monitor.update(_snap(0.08, True, False)).trips == ()  # bounce: not confirmed yet
    assert monitor.update(_snap(0.10, True, True)).trips == ()
    assert monitor.update(_snap(0.12, True, True)).trips == ()  # confirmed closed
    trips = monitor.update(_snap(0.14, True, False)).trips
    assert [t.code for t in trips] == ["CONTACTOR_FEEDBACK"]


def test_monitor_still_times_out_a_command_not_followed() -> None:
    monitor = ContactorFeedbackMonitor(timeout_s=0.5)
    monitor.update(_snap(0.0, False, False))
    monitor.update(_snap(0.02, False, False))
    assert monitor.update(_snap(0.04, True, False)).trips == ()
    assert monitor.update(_snap(0.50, True, False)).trips == ()
    trips = monitor.update(_snap(0.56, True, False)).trips
    assert [t.code for t in trips] == ["CONTACTOR_FAIL_CLOSE"]

