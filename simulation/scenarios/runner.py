"""Run a scenario: the production controller against the simulated charger, in virtual time.

Events apply at the first control tick at or after their time; the invariant checker looks at
plant truth and at the controller's own hot-open record after every tick; the run is
deterministic for a given file and seed.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from controller.modes.states import LATCHED
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from hal.registry import open_backend
from hal.sim.backend import simulated
from hal.sim.world import SimWorld
from simulation.invariants import InvariantChecker, InvariantSettings
from simulation.scenarios.events import Freeze, apply_event
from simulation.scenarios.expectations import RunRecord, evaluate
from simulation.scenarios.plant import plant_params
from simulation.scenarios.report import TimeseriesWriter, build_report
from simulation.scenarios.spec import Scenario

PROGRESS_AFTER_WALL_S = 2.0
PROGRESS_EVERY_WALL_S = 0.5


@dataclass
class Timing:
    """Wall time spent in the controller's ticks and in the plant (a wall-clock field)."""

    controller_s: float = 0.0
    plant_s: float = 0.0
    ticks: int = 0


class Progress:
    """A one-line progress indicator on stderr, shown only for runs longer than ~2 s."""

    def __init__(self, name: str, duration_s: float, stream: TextIO | None) -> None:
        self._name, self._duration, self._stream = name, duration_s, stream
        self._start = time.monotonic()
        self._next = self._start + PROGRESS_AFTER_WALL_S
        self._shown = False

    def update(self, t: float) -> None:
        if self._stream is None:
            return
        wall = time.monotonic()
        if wall < self._next:
            return
        self._next = wall + PROGRESS_EVERY_WALL_S
        self._shown = True
        pct = 100.0 * t / self._duration
        self._stream.write(f"\r{self._name}: {pct:5.1f} % (t = {t:.0f} of "
                           f"{self._duration:.0f} s)")
        self._stream.flush()

    def done(self) -> None:
        if self._stream is not None and self._shown:
            self._stream.write("\n")
            self._stream.flush()


def _sample(sup: Supervisor, world: SimWorld) -> dict[str, Any]:
    est = sup.last_estimate
    cmd = sup.last_dispatch.command.p_set_w if sup.last_dispatch else 0.0
    k = world.contactors
    pcc = world.meter_truth()
    return {
        "t": world.clock.now(), "state": sup.modes.state,
        "grid_voltage_v": world.grid.voltage_v, "grid_frequency_hz": world.grid.frequency_hz,
        "grid_import_w": world.grid_import_w, "home_load_w": world.home.load_w,
        "pv_w": world.home.pv_w, "inverter_ac_w": world.inverter.ac_power_w,
        "inverter_mode": world.inverter.mode_name, "ev_soc_pct": world.battery.soc_pct,
        "battery_current_a": world.battery.current_a, "dc_link_v": world.dc_link_v,
        "command_p_w": cmd, "k_grid": k["grid"].closed, "k_ac": k["ac"].closed,
        "k_v2l": k["v2l"].closed, "k_dc": k["dc"].closed,
        "k_precharge": k["precharge"].closed,
        # What the PCC meter's sensors see: the utility, an island's own bus, or the inverter's
        # voltage through a closed K_GRID (the grid_* columns are the utility source).
        "pcc_voltage_v": pcc.voltage_rms_v, "pcc_frequency_hz": pcc.frequency_hz,
        "inverter_q_var": world.inverter.reactive_power_var, "_est": est,
        **_measured(sup),
    }


def _measured(sup: Supervisor) -> dict[str, Any]:
    """What the controller measured or believed at its last tick ("" where it had nothing):
    the PCC meter and its estimator, the DC ADC, the EV's reported SoC, the inverter's status."""
    snap, est = sup.last_snapshot, sup.last_estimate
    meter = snap.meter if snap is not None else None
    analog = snap.analog if snap is not None else {}

    def sample(name: str) -> float | str:
        found = analog.get(name)
        return found.value if found is not None else ""

    return {
        "meas_voltage_v": est.voltage_v if est is not None else "",
        "meas_frequency_hz": est.frequency_hz if est is not None else "",
        "meas_rocof_hz_per_s": est.rocof_hz_per_s if est is not None else "",
        "meas_grid_power_w": meter.grid_power_w if meter is not None else "",
        "meas_pv_power_w": meter.pv_power_w if meter is not None else "",
        "meas_dc_link_v": sample("dc_link_v"),
        "meas_dc_current_a": sample("dc_current_a"),
        "meas_ev_soc_pct": snap.ev.soc_pct if snap is not None and snap.ev is not None else "",
        "meas_inverter_ac_w": (snap.inverter.ac_power_w if snap is not None
                               and snap.inverter is not None else ""),
    }


def run_scenario(scenario: Scenario, *, speed: float | None = None,
                 progress: TextIO | None = sys.stderr, timeseries: TextIO | None = None,
                 on_tick: Callable[[Supervisor], None] | None = None,
                 stop: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Run ``scenario`` and return its report (a JSON-ready dict).

    ``speed`` paces the run against wall time (``None``: as fast as possible); ``stop`` ends it
    early (the report then covers the time run, with a safe shutdown at the end).
    """
    config = scenario.config
    wall0 = time.monotonic()
    timing = Timing()
    store = StateStore.from_settings(config.store)
    hardware = open_backend(config.hal, plant=plant_params(scenario.plant, scenario.seed, config),
                            speed=speed)
    try:
        world = simulated(hardware).world
        # As fast as possible, ticks are timed on the loop clock only (a report must not depend
        # on the machine's load); paced against wall time, on the real clock as `v2xctl run`.
        work_clock = hardware.clock.now if speed is None else time.monotonic
        sup = Supervisor(config, hardware, store, work_clock=work_clock)
        settings = InvariantSettings.for_world(
            world, tick_s=config.control.tick_s,
            precharge_tolerance_v=config.sequence.precharge_tolerance_v,
            reserve_soc_pct=config.v2h.reserve_soc_pct,
            cable_max_current_a=config.limits.cable_max_current_a,
            inverter_max_dc_current_a=config.inverter.max_dc_current_a,
            backup_reserve_soc_pct=config.backup.reserve_soc_pct,
            insulation_test_s=config.sequence.insulation_test_s)
        # A load drop is seen at the next tick and cut in the one after: at a slow control rate
        # the unavoidable export lasts up to two ticks.
        settings = dataclasses.replace(settings, export_max_s=max(
            settings.export_max_s, 2 * config.control.tick_s + world.params.plant_step_s))
        checker = InvariantChecker(world, settings)
        driver = None
        if scenario.planner is not None:  # [planner]: the home energy planner drives the run
            from simulation.scenarios.planner_drive import PlannerDriver

            driver = PlannerDriver(scenario.planner, world, scenario.duration_s, scenario.start)
        record = _loop(scenario, sup, world, checker, Progress(scenario.name,
                       scenario.duration_s, progress), timeseries, on_tick, stop, timing,
                       driver)
        outcomes = [(e, evaluate(e, record)) for e in scenario.expectations]
        final = {"state": sup.modes.state, "ev_soc_pct": world.battery.soc_pct,
                 "faults": sorted(sup.status().faults),
                 "inverter_link": dict(sup.inverter.counters)}
        report = build_report(record, outcomes, time.monotonic() - wall0, final)
        report["wall"] = {"controller_s": timing.controller_s, "plant_s": timing.plant_s,
                          "ticks": timing.ticks}
        if driver is not None:
            report["planner"] = driver.report(world)
        return report
    finally:
        hardware.close()
        store.close()


def _loop(scenario: Scenario, sup: Supervisor, world: SimWorld, checker: InvariantChecker,
          progress: Progress, timeseries: TextIO | None,
          on_tick: Callable[[Supervisor], None] | None,
          stop: Callable[[], bool], timing: Timing, driver: Any = None) -> RunRecord:
    clock = sup.clock
    tick = scenario.config.control.tick_s
    pending = list(scenario.events)
    event_times: dict[str, float] = {}
    freeze = Freeze()
    writer = TimeseriesWriter(timeseries) if timeseries is not None else None
    next_sample = 0.0
    initial_state = sup.modes.state
    deadline = clock.now()
    end = scenario.duration_s
    while clock.now() < end - 1e-9:
        if stop():
            end = clock.now()
            sup.shutdown()
            break
        now = clock.now()
        while pending and pending[0].at_s <= now + 1e-9:
            entry = pending.pop(0)
            event_times[entry.ident] = now
            apply_event(entry, world, sup, freeze, now)
        if driver is not None:
            driver.before_tick(now, sup, world)
        if now >= freeze.until:
            t0 = time.perf_counter()
            sup.tick()
            timing.controller_s += time.perf_counter() - t0
            timing.ticks += 1
            checker.check(now, sup.state in LATCHED, sup.modes.export_permitted)
            checker.check_controller_record(sup.hot_opens)  # invariant 7, as it saw it
            if on_tick is not None:
                on_tick(sup)
        if writer is not None and now >= next_sample - 1e-9:
            row = _sample(sup, world)
            row.pop("_est")
            writer.row(row)
            next_sample += scenario.sample_s
        progress.update(now)
        deadline += tick
        t0 = time.perf_counter()
        clock.sleep_until(min(deadline, end))
        timing.plant_s += time.perf_counter() - t0
    progress.done()
    if driver is not None:
        driver.finish(world)  # the last step's accounting
    return RunRecord(scenario, initial_state, list(sup.transitions), list(sup.trip_log),
                     world.truth, list(checker.violations), event_times, end,
                     requests=list(sup.request_log), winners=list(sup.winner_log),
                     hot_opens=list(sup.hot_opens))


def run_file(path: str | Path, **kwargs: Any) -> dict[str, Any]:
    from simulation.scenarios.spec import load_scenario

    return run_scenario(load_scenario(path), **kwargs)
