"""Frequency-watt droop (IEEE 1547-2018 6.5.2.7) as the dispatcher applies it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from controller.config.der_settings import FrequencyDroopSettings
from controller.config.loader import load_config
from controller.dispatch.droop import FrequencyDroop
from controller.supervisor.loop import Supervisor
from hal.errors import ConfigError
from hal.sim.backend import simulated
from simulation.scenarios.runner import run_file

GRID = Path(__file__).resolve().parent.parent / "scenarios" / "grid"
RATED_W = 11000.0
TICK_S = 0.02


def settle(droop: FrequencyDroop, target_w: float, f_hz: float, low_w: float, high_w: float,
           seconds: float = 30.0, t0: float = 0.0) -> float:
    t, power = t0, target_w
    while t < t0 + seconds:
        power = droop.apply(t, target_w, f_hz, low_w, high_w).power_w
        t += TICK_S
    return power


def test_over_frequency_cuts_export_by_the_default_droop() -> None:
    """11 kW export at 61.0 Hz with dbOF 36 mHz and k 5 %: 11 kW x 0.964 / 3 = 3.53 kW less."""
    droop = FrequencyDroop(FrequencyDroopSettings(), 60.0, RATED_W)
    power = settle(droop, -11000.0, 61.0, -11000.0, 0.0)
    assert power == pytest.approx(-11000.0 + 0.964 / 3.0 * RATED_W, abs=5.0)
    assert power == pytest.approx(-7465.0, abs=5.0)


def test_inside_the_dead_band_nothing_changes() -> None:
    droop = FrequencyDroop(FrequencyDroopSettings(), 60.0, RATED_W)
    for f in (59.965, 60.0, 60.035):
        assert settle(droop, -5000.0, f, -11000.0, 0.0) == -5000.0


def test_under_frequency_reduces_charging_but_never_turns_it_into_export() -> None:
    droop = FrequencyDroop(FrequencyDroopSettings(), 60.0, RATED_W)
    power = settle(droop, 7000.0, 59.5, 0.0, 7000.0)
    assert power == pytest.approx(7000.0 - 0.464 / 3.0 * RATED_W, abs=5.0)
    assert settle(droop, 1000.0, 58.0, 0.0, 7000.0) == 0.0  # not below the mode's range


def test_under_frequency_raises_v2g_export_within_its_limit() -> None:
    droop = FrequencyDroop(FrequencyDroopSettings(), 50.0, RATED_W)
    power = settle(droop, -3000.0, 49.8, -11000.0, 0.0)
    assert power == pytest.approx(-3000.0 - 0.164 / 2.5 * RATED_W, abs=5.0)
    assert settle(droop, -10000.0, 48.0, -11000.0, 0.0) == -11000.0


def test_the_response_reaches_ninety_percent_at_the_response_time() -> None:
    settings = FrequencyDroopSettings(response_time_s=5.0)
    droop = FrequencyDroop(settings, 60.0, RATED_W)
    settle(droop, -11000.0, 60.0, -11000.0, 0.0, seconds=1.0)
    full = droop.wanted_offset_w(61.0)
    at_3s = settle(droop, -11000.0, 61.0, -11000.0, 0.0, seconds=3.0, t0=1.0) + 11000.0
    at_4s = settle(droop, -11000.0, 61.0, -11000.0, 0.0, seconds=1.0, t0=4.0) + 11000.0
    assert at_3s < 0.9 * full < at_4s + 0.01 * full  # 90 % at 80 % of the response time


def test_disabled_or_no_frequency_means_no_droop() -> None:
    off = FrequencyDroop(FrequencyDroopSettings(enabled=False), 60.0, RATED_W)
    assert settle(off, -11000.0, 61.0, -11000.0, 0.0) == -11000.0
    droop = FrequencyDroop(FrequencyDroopSettings(), 60.0, RATED_W)
    assert droop.apply(0.0, -11000.0, None, -11000.0, 0.0).power_w == -11000.0
    assert droop.apply(0.02, -11000.0, math.nan, -11000.0, 0.0).power_w == -11000.0


def test_the_whole_charger_droops_export_and_charging() -> None:
    """The scenario drives the production controller on the simulator: what the plant's
    inverter delivered and what the controller commanded must both show the droop."""
    samples: dict[float, tuple[float, float]] = {}

    def tick(sup: Supervisor) -> None:
        world = simulated(sup.hw).world
        t = round(world.clock.now(), 2)
        commanded = sup.last_dispatch.command.p_set_w if sup.last_dispatch else 0.0
        samples[t] = (world.inverter.ac_power_w, commanded)

    report = run_file(GRID / "frequency-droop-v2g.toml", progress=None, on_tick=tick)
    assert report["passed"], [e["explanation"] for e in report["expectations"]]
    assert samples[11.9][0] == pytest.approx(-11000.0, abs=50.0)
    drooped = -11000.0 + 0.964 / 3.0 * RATED_W
    assert samples[24.9][0] == pytest.approx(drooped, abs=60.0)
    assert samples[24.9][1] == pytest.approx(drooped, abs=60.0)
    change = drooped + 11000.0
    assert samples[17.0][0] + 11000.0 >= 0.9 * change  # 90 % within the 5 s response time
    assert samples[34.9][0] == pytest.approx(-11000.0, abs=50.0)  # back at 60 Hz
    assert samples[49.9][0] == pytest.approx(7000.0, abs=50.0)
    assert samples[69.9][0] == pytest.approx(7000.0 - 0.464 / 3.0 * RATED_W, abs=60.0)


@pytest.mark.parametrize(("category", "key", "value", "refused"), [
    ("II", "k_of", 0.02, True), ("III", "k_of", 0.02, False), ("I", "k_uf", 0.025, True),
    ("II", "response_time_s", 0.5, True), ("III", "response_time_s", 0.5, False),
    ("II", "k_of", math.nan, True), ("II", "response_time_s", math.inf, True)])
def test_droop_settings_follow_the_category(category: str, key: str, value: float,
                                            refused: bool) -> None:
    text = (f'[hal]\nbackend = "sim"\n[inverter]\nride_through_category = "{category}"\n'
            f"[frequency_droop]\n{key} = {value}\n")
    if refused:
        with pytest.raises(ConfigError, match=f"frequency_droop.{key}"):
            load_config(text)
    else:
        assert getattr(load_config(text).frequency_droop, key) == value
