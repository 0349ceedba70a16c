"""Unintentional islanding: the island's physics against theory, then the IEEE 1547.1 procedure.

The RLC island model (``hal/sim/plant/island.py``) is checked against the phase criterion and
the Sandia-frequency-shift gain bound of ``grid-codes.md`` section 3.3; then a representative
part of the IEEE 1547.1-2020 5.10.2 sweep runs on the whole simulated charger (the full sweep,
4 power levels x 11 reactive steps, is ``bench/grid_protection.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from controller.config.loader import load_config
from hal.errors import ConfigError
from hal.sim.plant.island import Island, IslandDynamics, RlcLoad
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
F0, V, P = 60.0, 240.0, 5500.0
RATED_A = 11000.0 / V
CF0 = 0.01


BARE = IslandDynamics(filter_capacitance_f=0.0)  # the load alone on the bus (theory checks)


def run_island(load: RlcLoad, gain: float, seconds: float, cf0: float = CF0,
               dynamics: IslandDynamics = BARE) -> Island:
    island = Island(V, F0, dynamics)
    island.form(load, V, F0)
    t = 0.0
    def lead(pll_hz: float) -> float:
        return math.pi / 2.0 * (cf0 + gain * (pll_hz - F0))

    while t < seconds and abs(island.frequency_hz - F0) < 5.0:
        island.step(0.005, P, lead, RATED_A)
        t += 0.005
    return island


def test_the_load_is_built_from_p_qf_and_f0() -> None:
    load = RlcLoad.from_power(P, 2.5, F0, V)
    assert load.qf == pytest.approx(2.5)
    assert load.f0_hz == pytest.approx(F0)
    assert V * V / load.r_ohm == pytest.approx(P)


def test_a_balanced_island_without_anti_islanding_sustains_itself() -> None:
    """IEEE 1547.1 5.10.2 step 2: the model holds V and f for 10 s when nothing detects it."""
    island = run_island(RlcLoad.from_power(P, 1.0, F0, V), gain=0.0, seconds=10.0, cf0=0.0)
    assert island.active
    assert island.frequency_hz == pytest.approx(F0, abs=1e-6)
    assert island.voltage_v == pytest.approx(V, rel=1e-3)


@pytest.mark.parametrize("c_pct", [95.0, 105.0])
def test_a_reactive_mismatch_settles_where_the_phase_criterion_says(c_pct: float) -> None:
    """With a unity-power-factor inverter the island frequency is the load's resonance."""
    load = RlcLoad.from_power(P, 1.0, F0, V).scaled_reactive(c_pct)
    island = run_island(load, gain=0.0, seconds=2.0, cf0=0.0)
    assert island.frequency_hz == pytest.approx(load.f0_hz, abs=1e-3)
    assert island.voltage_v == pytest.approx(V, rel=0.01)  # resistive at resonance


@pytest.mark.parametrize("qf", [1.0, 2.5])
def test_frequency_shift_above_the_gain_bound_leaves_the_window(qf: float) -> None:
    """K > 4 Qf / (pi f0) removes the non-detection zone: the same small bias (cf0) runs
    away above the bound and settles near nominal (inside any trip window) at half of it."""
    bound = 4.0 * qf / (math.pi * F0)
    load = RlcLoad.from_power(P, qf, F0, V)
    runaway = run_island(load, gain=1.5 * bound, seconds=1.0, cf0=0.001)
    assert abs(runaway.frequency_hz - F0) > 2.0
    stuck = run_island(load, gain=0.5 * bound, seconds=1.0, cf0=0.001)
    assert 0.0 < stuck.frequency_hz - F0 < 0.2


def _case(p_pct: float, c_pct: float, qf: float = 1.0) -> dict[str, Any]:
    wide = {"ov1_pu": 1.2, "ov1_clearing_time_s": 13.0, "uv1_pu": 0.0,
            "uv1_clearing_time_s": 21.0, "uv2_pu": 0.0, "uv2_clearing_time_s": 2.0,
            "of2_hz": 66.0, "of2_clearing_time_s": 1000.0, "of1_hz": 66.0,
            "of1_clearing_time_s": 1000.0, "uf1_hz": 50.0, "uf1_clearing_time_s": 1000.0,
            "uf2_hz": 50.0, "uf2_clearing_time_s": 1000.0}
    return {"scenario": {"name": f"island-{p_pct}-{c_pct}", "duration_s": 10.0, "seed": 3},
            "plant": {"ev_soc_pct": 80.0, "home_load_w": 0.0},
            "config": {"limits": {"max_discharge_power_w": 11000.0,
                                  "ramp_rate_w_per_s": 5000.0}, "inverter": wide},
            "events": [{"at_s": 0.0, "kind": "request", "mode": "v2g",
                        "source": "grid_operator", "power_w": 110.0 * p_pct},
                       {"at_s": 7.0, "kind": "grid_island", "qf": qf, "c_pct": c_pct}],
            "expect": [{"kind": "no_invariant_violation"}]}


def _clearing(report: dict[str, Any]) -> float:
    events = report["plant_events"]
    opened = next(e["t"] for e in events if e["kind"] == "island_formed")
    dead = next(e["t"] for e in events if e["kind"] == "pcc_deenergized" and e["t"] >= opened)
    return float(dead - opened)


@pytest.mark.parametrize(("p_pct", "c_pct"), [(100, 95), (100, 100), (100, 105), (50, 95),
                                              (50, 105), (33, 100)])
def test_ieee_1547_1_islanding_cases_clear_within_half_a_second(p_pct: float,
                                                               c_pct: float) -> None:
    report = run_scenario(parse_scenario(_case(p_pct, c_pct)), progress=None)
    assert report["passed"]
    assert 0.0 < _clearing(report) <= 0.5
    assert any(e["kind"] == "inverter_trip" and e["element"] == "ISLANDING"
               for e in report["plant_events"])


@pytest.mark.parametrize("c_pct", [99.0, 100.0, 100.5, 101.0, 101.3, 102.0, 103.0])
def test_high_q_islands_clear_within_half_a_second_at_default_gain(c_pct: float) -> None:
    """Qf = 2.5, the capacitive branch just above resonance: with the old default gain (0.05,
    below 4 Qf / (pi f0) = 0.053 at 60 Hz) the island at 100.5-101.3 % never cleared."""
    report = run_scenario(parse_scenario(_case(100, c_pct, qf=2.5)), progress=None)
    assert report["passed"]
    assert 0.0 < _clearing(report) <= 0.5


@pytest.mark.parametrize(("nominal_hz", "gain", "refused"), [
    (60.0, 0.05, True), (60.0, 0.055, False), (50.0, 0.06, True), (50.0, 0.065, False)])
def test_a_gain_below_the_non_detection_bound_is_refused(nominal_hz: float, gain: float,
                                                         refused: bool) -> None:
    voltage = 240.0 if nominal_hz == 60.0 else 230.0
    text = (f'[hal]\nbackend = "sim"\n[grid]\nnominal_frequency_hz = {nominal_hz}\n'
            f"nominal_voltage_v = {voltage}\n[inverter]\nanti_islanding_gain = {gain}\n")
    if refused:
        with pytest.raises(ConfigError, match=r"inverter.anti_islanding_gain = .*Qf up to 2.5"):
            load_config(text)
    else:
        assert load_config(text).inverter.anti_islanding_gain == gain


def _time_to_leave(load: RlcLoad, dynamics: IslandDynamics, band_hz: float = 1.0,
                   power_w: float = P) -> float:
    """How long a detectable island (gain 1.5 x the bound) takes to move ``band_hz`` away."""
    gain = 1.5 * 4.0 * 2.5 / (math.pi * F0)
    island = Island(V, F0, dynamics)
    island.form(load, V, F0)
    t = 0.0
    while abs(island.frequency_hz - F0) < band_hz:
        island.step(0.001, power_w, lambda f: math.pi / 2.0 * (CF0 + gain * (f - F0)), RATED_A)
        t += 0.001
        assert t < 5.0, "the island never left the band"
    return t


def test_the_load_s_envelope_settles_with_2_qf_over_w0() -> None:
    assert RlcLoad.from_power(P, 2.5, F0, V).envelope_tau_s == pytest.approx(
        2.0 * 2.5 / (2.0 * math.pi * F0))


def test_clearing_depends_on_the_load_s_quality_factor() -> None:
    """A high-Q load holds its frequency: the same detector takes longer to move it."""
    fast = _time_to_leave(RlcLoad.from_power(P, 1.0, F0, V), BARE)
    slow = _time_to_leave(RlcLoad.from_power(P, 2.5, F0, V), BARE)
    assert slow > 1.5 * fast


def test_clearing_depends_on_the_inverter_s_pll() -> None:
    """The frequency shift acts on the PLL's frequency: a slower PLL delays the runaway."""
    load = RlcLoad.from_power(P, 2.5, F0, V)
    quick = _time_to_leave(load, IslandDynamics(pll_natural_hz=30.0, filter_capacitance_f=0.0))
    sluggish = _time_to_leave(load, IslandDynamics(pll_natural_hz=3.0, filter_capacitance_f=0.0))
    assert sluggish > 1.3 * quick


def test_the_island_s_pll_tracks_a_frequency_offset_without_phase_error() -> None:
    """Type 2: at 95 % C the island settles off nominal; the PLL reads the bus frequency."""
    load = RlcLoad.from_power(P, 1.0, F0, V).scaled_reactive(95.0)
    island = run_island(load, gain=0.0, seconds=1.0, cf0=0.0)
    assert island.pll_frequency_hz == pytest.approx(island.frequency_hz, abs=1e-6)


def test_the_tuned_load_compensates_the_inverter_s_filter() -> None:
    """IEEE 1547.1 tunes the load with the inverter connected: with its filter capacitor the
    island is resonant at nominal (it holds 60 Hz), and it is not without the compensation."""
    with_filter = IslandDynamics()
    load = RlcLoad.from_power(P, 2.5, F0, V)
    tuned = run_island(load.compensating(with_filter.filter_capacitance_f), gain=0.0,
                       seconds=1.0, cf0=0.0, dynamics=with_filter)
    assert tuned.frequency_hz == pytest.approx(F0, abs=1e-6)
    untuned = run_island(load, gain=0.0, seconds=1.0, cf0=0.0, dynamics=with_filter)
    assert untuned.frequency_hz < F0 - 0.01


def test_partial_output_raises_the_island_s_effective_quality_factor() -> None:
    """The filter's fixed capacitance is a larger share of a smaller balanced load: the same
    detector moves a 33 % island more slowly than a 100 % one."""
    dyn = IslandDynamics()
    times = {}
    for p_pct in (100.0, 33.0):
        p_w = P * p_pct / 100.0
        load = RlcLoad.from_power(p_w, 2.5, F0, V).compensating(dyn.filter_capacitance_f)
        times[p_pct] = _time_to_leave(load, dyn, power_w=p_w)
    assert times[33.0] > times[100.0]
