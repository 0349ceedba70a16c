"""A meter that keeps answering on I2C but whose values stop meaning anything (issue 15 item 1).

The reproduction: V2H carrying a 4 kW home load, the meter freezes (its input waveform, or its
DSP's registers), and the home load drops to 1 kW. Before this check the charger went on
discharging for a minute while believing it imported, exporting kilowatts into the utility with
no fault. Now each form latches ``METER_IMPLAUSIBLE`` within its deadline and the plant's own
export invariant (6: no export beyond 1 % of the rating for 0.25 s outside v2g) never fires.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from controller.config.loader import parse_config
from controller.modes.states import LATCHED, State
from hal.errors import ConfigError
from hal.sim.chips.meter_rig import MeterRig, NoiseModel, ScriptedGrid
from hal.sim.params import PlantParams
from harness import Charger
from simulation.fault_injection import inject
from simulation.invariants import InvariantChecker, InvariantSettings
from simulation.scenarios.runner import run_file

FROZEN = ("meter_frozen_signal", "meter_frozen_registers")
CODE = "METER_IMPLAUSIBLE"
SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "safety" / "meter-frozen-v2h.toml"


def _checker(c: Charger) -> InvariantChecker:
    cfg = c.config
    return InvariantChecker(c.world, InvariantSettings.for_world(
        c.world, tick_s=cfg.control.tick_s,
        precharge_tolerance_v=cfg.sequence.precharge_tolerance_v,
        reserve_soc_pct=cfg.v2h.reserve_soc_pct,
        cable_max_current_a=cfg.limits.cable_max_current_a,
        inverter_max_dc_current_a=cfg.inverter.max_dc_current_a,
        backup_reserve_soc_pct=cfg.backup.reserve_soc_pct,
        insulation_test_s=cfg.sequence.insulation_test_s))


def _run(c: Charger, checker: InvariantChecker, seconds: float) -> None:
    c.sup.run(duration_s=seconds, on_tick=lambda sup: checker.check(
        c.now, sup.state in LATCHED, sup.modes.export_permitted))


def _v2h_at_4kw(make_charger: Callable[..., Charger],
                overrides: dict[str, Any] | None = None) -> tuple[Charger, InvariantChecker]:
    c = make_charger(overrides, plant=PlantParams(ev_soc_pct=80.0, home_load_w=4000.0))
    checker = _checker(c)
    c.request("v2h")
    _run(c, checker, 20.0)
    assert c.state is State.ENERGISED_V2H
    assert c.world.inverter.ac_power_w < -3500.0  # the EV carries the home
    return c, checker


def _first_trip(c: Charger, code: str, after: float) -> float | None:
    return next((r.t for r in c.sup.trip_log if r.function == code and r.t >= after), None)


def _exported_wh(c: Charger) -> float:
    return c.world.truth.energy.grid_export_kwh * 1000.0


@pytest.mark.parametrize("fault", FROZEN)
def test_frozen_meter_in_v2h_latches_before_the_plant_exports(
        make_charger: Callable[..., Charger], fault: str) -> None:
    """Freeze and a 3 kW load drop in the same instant: the worst case for export."""
    c, checker = _v2h_at_4kw(make_charger)
    export_before = _exported_wh(c)
    t0 = c.now
    inject(c.world, fault, {})
    c.world.home.load_w = 1000.0
    _run(c, checker, 60.0)
    trip = _first_trip(c, CODE, t0)
    exported = _exported_wh(c) - export_before
    assert trip is not None, (
        f"{fault}: no {CODE} in 60 s; the plant exported {exported:.0f} Wh, the inverter is at "
        f"{c.world.inverter.ac_power_w:.0f} W, the controller believes the grid imports "
        f"{c.sup.last_snapshot.meter.grid_power_w if c.sup.last_snapshot and c.sup.last_snapshot.meter else float('nan'):.0f} W; "  # noqa: E501
        f"trips {[r.function for r in c.sup.trip_log]}")
    deadline = c.config.safety.meter.identical_readings * c.config.control.tick_s
    assert trip - t0 <= deadline + 2 * c.config.control.tick_s + 1e-9, (fault, trip - t0)
    assert c.state in LATCHED
    assert CODE in {f.code for f in c.store.active_faults()}
    # The controller acted before the plant's own invariant 6 could fire: no violation at all,
    # and what leaked into the utility is the few ticks before the trip (3 kW for < 0.25 s).
    assert checker.violations == [], [str(v) for v in checker.violations]
    assert exported < 3000.0 * 0.25 / 3600.0, exported
    assert c.world.inverter.mode_name in ("off", "fault")


QUIET = {"safety": {"meter": {"identical_readings": 1000}}}  # the noise check out of reach


def test_stalled_energy_alone_catches_frozen_registers(
        make_charger: Callable[..., Charger]) -> None:
    """With the noise check out of reach, a frozen register file is still caught by its energy
    counters, which stop, within ``energy_stall_s``."""
    c, checker = _v2h_at_4kw(make_charger, QUIET)
    t0 = c.now
    inject(c.world, "meter_frozen_registers", {})
    stall = c.config.safety.meter.energy_stall_s
    _run(c, checker, stall + 0.5)
    trip = _first_trip(c, CODE, t0)
    assert trip is not None and trip - t0 <= stall + 0.2, trip
    assert "energy" in next(r.detail for r in c.sup.trip_log if r.function == CODE)


def test_no_response_alone_catches_a_frozen_signal_when_the_charge_power_changes(
        make_charger: Callable[..., Charger]) -> None:
    """A frozen signal's energy still counts; with the noise check out of reach it is caught
    by the grid power not following the inverter once the charge power changes."""
    c = make_charger(QUIET)
    checker = _checker(c)
    c.request("charge", 7000.0)
    _run(c, checker, 15.0)
    assert c.state is State.ENERGISED_CHARGE
    t0 = c.now
    inject(c.world, "meter_frozen_signal", {})
    _run(c, checker, 3.0)
    assert _first_trip(c, CODE, t0) is None  # energy counts; the power is steady
    t1 = c.now
    c.request("charge", 1000.0)  # the inverter moves by 6 kW; the meter does not
    window = c.config.safety.meter.response_window_s
    _run(c, checker, window)
    trip = _first_trip(c, CODE, t1)
    assert trip is not None, [r.function for r in c.sup.trip_log]
    # 2 kW of 6 kW at the 2 kW/s ramp: one second and a tick
    assert trip - t1 <= c.config.safety.meter.response_min_change_w / 2000.0 + 0.1, trip - t1
    assert "does not follow" in next(r.detail for r in c.sup.trip_log if r.function == CODE)
    assert checker.violations == [], [str(v) for v in checker.violations]


@pytest.mark.parametrize("rate_w_per_s", [500.0, 1000.0, 2000.0])
def test_v2h_tracking_a_home_load_ramp_is_not_a_frozen_meter(
        make_charger: Callable[..., Charger], rate_w_per_s: float) -> None:
    """The v2h follower holds the grid still while it tracks a ramp: the inverter moves by
    kilowatts, the meter by a few hundred watts, exactly the no-response signature. The
    response check therefore does not judge v2h (a regression test: it tripped here)."""
    c, checker = _v2h_at_4kw(make_charger)
    c.world.home.load_w = 500.0
    _run(c, checker, 10.0)
    span = 6000.0 / rate_w_per_s
    for sign in (1.0, -1.0):
        t0, base = c.now, c.world.home.load_w

        def ramp(_sup: object, t0: float = t0, base: float = base, sign: float = sign) -> None:
            c.world.home.load_w = base + sign * rate_w_per_s * min(c.now - t0, span)
            checker.check(c.now, c.state in LATCHED, c.sup.modes.export_permitted)
        c.sup.run(duration_s=span + 8.0, on_tick=ramp)
    assert [r.function for r in c.sup.trip_log] == []
    assert checker.violations == [], [str(v) for v in checker.violations]


def test_a_healthy_meter_never_trips_through_load_and_power_steps(
        make_charger: Callable[..., Charger]) -> None:
    """No false trip: v2h through load steps and a PV ramp, a charge with power changes."""
    c, checker = _v2h_at_4kw(make_charger)
    for load, pv in ((1000.0, 0.0), (6000.0, 0.0), (4500.0, 2000.0), (300.0, 0.0),
                     (5000.0, 0.0), (4000.0, 0.0)):
        c.world.home.load_w, c.world.home.pv_w = load, pv
        _run(c, checker, 8.0)
    c.request("charge", 7000.0)
    _run(c, checker, 15.0)
    c.request("charge", 1000.0)
    _run(c, checker, 10.0)
    assert [r.function for r in c.sup.trip_log] == []
    assert checker.violations == [], [str(v) for v in checker.violations]


def test_the_driver_sees_each_frozen_form_as_the_issue_describes() -> None:
    """At the driver: a frozen signal keeps counting energy with bit-identical readings; frozen
    registers repeat every reading and the energy counters stop."""
    grid = ScriptedGrid(60.0, lambda t: 240.0, 60.0)
    for fault in FROZEN:
        rig = MeterRig(grid, NoiseModel(), seed=3)
        for _ in range(20):
            rig.tick()
        getattr(rig.model, "freeze_signal" if fault == "meter_frozen_signal"
                else "freeze_registers")()
        for _ in range(8):  # one round of the slow slots: what accumulated before the halt
            rig.tick()
        readings = [rig.tick() for _ in range(20)]
        volts = {r.voltage_rms_v for r in readings}
        watts = {r.grid_power_w for r in readings}
        energy = np.diff([r.grid_import_wh for r in readings])
        assert len(volts) == 1 and len(watts) == 1, (fault, volts, watts)
        if fault == "meter_frozen_signal":
            assert energy.sum() > 0.0  # 2300 W keeps accumulating
        else:
            assert energy.sum() == 0.0
        assert not readings[-1].voltage_lost


def test_the_controller_trips_before_the_plant_invariant_would_fire(
        make_charger: Callable[..., Charger]) -> None:
    """Invariant 6 (simulation/invariants.py) is the plant's judge of export. With the noise check
    out of reach, a frozen signal in v2h escapes the controller (its energy counts, and the
    response check does not judge v2h) and the invariant fires 0.25 s after the load drop; with
    the default settings the controller's trip comes well before that instant."""
    unchecked, checker = _v2h_at_4kw(make_charger, QUIET)
    t0 = unchecked.now
    inject(unchecked.world, "meter_frozen_signal", {})
    unchecked.world.home.load_w = 1000.0
    _run(unchecked, checker, 2.0)
    assert _first_trip(unchecked, CODE, t0) is None
    fired = [v for v in checker.violations if v.invariant == 6]
    assert fired, "the plant invariant must see the export the controller missed"
    invariant_after = fired[0].t - t0

    c, checker = _v2h_at_4kw(make_charger)
    t0 = c.now
    inject(c.world, "meter_frozen_signal", {})
    c.world.home.load_w = 1000.0
    _run(c, checker, 2.0)
    trip = _first_trip(c, CODE, t0)
    assert trip is not None and trip - t0 < invariant_after - 0.1, (trip, invariant_after)
    assert checker.violations == []
    print(f"\nfrozen signal + 3 kW load drop: METER_IMPLAUSIBLE after {trip - t0:.3f} s; "
          f"without the check invariant 6 fires after {invariant_after:.3f} s")


def test_frozen_meter_scenario_passes() -> None:
    report = run_file(SCENARIO, progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], (failed, report["invariant_violations"][:3])
    assert [t["function"] for t in report["trips"]] == [CODE]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_meter_settings_must_be_finite(value: float) -> None:
    with pytest.raises(ConfigError, match=r"safety\.meter\.energy_stall_s"):
        parse_config({"safety": {"meter": {"energy_stall_s": value}}})
