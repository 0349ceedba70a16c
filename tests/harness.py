"""A simulated charger on the virtual clock, for tests: production code, simulated plant."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from controller.config.loader import parse_config
from controller.config.model import Config
from controller.dispatch.arbitration import Decision
from controller.modes.states import State
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from hal.interfaces.hardware import Hardware
from hal.registry import open_backend
from hal.sim.backend import simulated
from hal.sim.clock import DEFAULT_EPOCH
from hal.sim.params import PlantParams
from simulation.invariants import InvariantSettings

# Parsed configs by their input: a Config is frozen dataclasses (tuples, no dicts or lists), so
# chargers built from the same tables may share one; parsing it is a third of building a
# charger (~2.6 ms of ~7.6 ms) and most tests build theirs from the same few tables. A table
# that fails to parse raises every time (only successes are kept).
_PARSED: dict[str, Config] = {}


def parsed_config(data: Mapping[str, Any]) -> Config:
    """``parse_config(data)``, once per distinct ``data`` in a test session."""
    key = json.dumps(data, sort_keys=True, default=repr)
    config = _PARSED.get(key)
    if config is None:
        config = _PARSED[key] = parse_config(data)
    return config


class FakeWorkClock:
    """The supervisor's work clock in tests: it advances only by ``step_s`` per reading (0: the
    controller's work costs nothing, so no test depends on how loaded the machine is). The loop
    reads it at the start and the end of each tick, so a tick takes ``step_s`` of work time."""

    def __init__(self) -> None:
        self.t = 0.0
        self.step_s = 0.0

    def __call__(self) -> float:
        self.t += self.step_s
        return self.t


class Charger:
    """Config + simulated hardware + supervisor; ``run(s)`` advances plant and loop together."""

    def __init__(self, overrides: Mapping[str, Any] | None = None,
                 plant: PlantParams | None = None, store_path: str = ":memory:",
                 start_epoch: float = DEFAULT_EPOCH) -> None:
        """``start_epoch``: the wall time at the virtual clock's start (a restart on the same
        ``store_path`` some time after an earlier run: ``DEFAULT_EPOCH`` + its end time)."""
        data: dict[str, Any] = {"store": {"path": store_path}}
        for key, value in (overrides or {}).items():
            data.setdefault(key, {}).update(value)
        self.config: Config = parsed_config(data)
        self.store = StateStore.from_settings(self.config.store)
        self.hw: Hardware = open_backend(self.config.hal, plant=plant or PlantParams(),
                                         start_epoch=start_epoch)
        self.world = simulated(self.hw).world
        self.work = FakeWorkClock()
        self.sup = Supervisor(self.config, self.hw, self.store, work_clock=self.work)

    @property
    def state(self) -> State:
        return self.sup.state

    @property
    def now(self) -> float:
        return self.hw.clock.now()

    def request(self, mode: str | None, power_w: float | None = None, source: str = "user",
                lease_s: float | None = None) -> Decision:
        """A claim from ``source`` (default the user); the decision says if it was refused."""
        return self.sup.claim(source, mode, power_w, lease_s)

    def run(self, seconds: float) -> None:
        self.sup.run(duration_s=seconds)

    def run_until(self, predicate: Any, limit_s: float) -> float:
        """Tick until ``predicate()`` holds; returns the time it took (fails past the limit)."""
        start = self.now
        self.sup.run(stop=lambda: predicate() or self.now - start > limit_s)
        assert predicate(), f"condition not reached within {limit_s} s (state {self.state})"
        return self.now - start

    def close(self) -> None:
        self.hw.close()
        self.store.close()


def invariant_settings(charger: Charger, **overrides: Any) -> InvariantSettings:
    """The checker's settings from the charger's config and plant."""
    cfg = charger.config
    built = InvariantSettings.for_world(
        charger.world, tick_s=cfg.control.tick_s,
        precharge_tolerance_v=cfg.sequence.precharge_tolerance_v,
        reserve_soc_pct=cfg.v2h.reserve_soc_pct,
        cable_max_current_a=cfg.limits.cable_max_current_a,
        inverter_max_dc_current_a=cfg.inverter.max_dc_current_a,
        backup_reserve_soc_pct=cfg.backup.reserve_soc_pct,
        insulation_test_s=cfg.sequence.insulation_test_s)
    return dataclasses.replace(built, **overrides)


SLOW_TICK_S = 1.0


def slow_loop_settings(alert_v: float) -> dict[str, Any]:
    """The bench day's settings (1 Hz control, 1 s plant step) as a scenario's ``plant`` and
    ``config`` tables: the car's windows and the controller's timeouts scaled to the tick."""
    t = SLOW_TICK_S
    return {
        "plant": {"ev_soc_pct": 70.0, "ev_capacity_kwh": 80.0, "plant_step_s": t,
                  "inverter_command_timeout_s": 3 * t, "home_load_w": 3200.0,
                  "contactor_close_delay_s": 0.03, "contactor_open_delay_s": 0.015,
                  "ev_timeout_scale": 10.0},  # the car's windows, as the controller's below
        "config": {"ev": {"frames_timeout_s": 3 * t},
                   "protection": {"inverter_status_timeout_s": 2 * t,
                                  "ev_report_timeout_s": 3 * t,
                                  "sensor_max_age_s": 5 * t},
                   "sequence": {"contactor_timeout_s": 3 * t, "rampdown_timeout_s": 30.0},
                   "inverter": {"command_timeout_s": 3 * t},
                   "hal": {"i2c": {"ntc_adc": {"max_sample_age_s": 5 * t},
                                   "adc": {"dc_link_alert_v": alert_v}}}},
    }
