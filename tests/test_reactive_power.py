"""Reactive power and voltage regulation (IEEE 1547-2018 5.3, 5.4): the dispatcher's modes, the
whole charger on the simulator, and EPRI's OpenDER on the same voltage."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from opender import DER, DER_BESS

from controller.config.der_settings import ReactivePowerSettings
from controller.config.loader import load_config
from controller.dispatch.reactive import ReactivePower, interpolate
from controller.supervisor.loop import Supervisor
from hal.errors import ConfigError
from hal.sim.backend import simulated
from simulation.scenarios.runner import run_scenario
from simulation.scenarios.spec import parse_scenario

RATED_W = 11000.0
TICK_S = 0.02


def steady(settings: ReactivePowerSettings, voltage_pu: float, p_out_w: float = 0.0,
           seconds: float = 60.0) -> tuple[float, float, float]:
    reactive = ReactivePower(settings, RATED_W)
    t, result = 0.0, None
    while t < seconds:
        result = reactive.update(t, voltage_pu, p_out_w)
        t += TICK_S
    assert result is not None
    return result.q_var, result.p_limit_w, result.output_limit_w


@pytest.mark.parametrize(("category", "voltage_pu", "q_pu"), [
    ("B", 1.0, 0.0), ("B", 0.92, 0.44), ("B", 0.95, 0.22), ("B", 1.05, -0.22),
    ("B", 1.10, -0.44), ("B", 0.80, 0.44), ("A", 1.05, -0.125), ("A", 0.95, 0.125)])
def test_volt_var_follows_the_category_curve(category: str, voltage_pu: float,
                                             q_pu: float) -> None:
    settings = ReactivePowerSettings(category=category, mode="volt_var")
    q, _, _ = steady(settings, voltage_pu)
    assert q == pytest.approx(q_pu * RATED_W, abs=1.0)


def test_constant_power_factor_absorbs_or_injects() -> None:
    q, _, _ = steady(ReactivePowerSettings(constant_pf=0.95), 1.0, p_out_w=10000.0,
                     seconds=0.1)
    assert q == pytest.approx(-10000.0 * math.tan(math.acos(0.95)), abs=1.0)
    q, _, _ = steady(ReactivePowerSettings(constant_pf=0.95, constant_pf_absorbing=False), 1.0,
                     p_out_w=10000.0, seconds=0.1)
    assert q == pytest.approx(3287.0, abs=1.0)
    q, _, _ = steady(ReactivePowerSettings(constant_pf=0.8), 1.0, p_out_w=10000.0, seconds=0.1)
    assert q == pytest.approx(-0.44 * RATED_W)  # the Category B capability
    assert steady(ReactivePowerSettings(), 1.0, p_out_w=10000.0)[0] == 0.0  # unity, default


def test_watt_var_and_constant_var() -> None:
    settings = ReactivePowerSettings(mode="watt_var")
    assert steady(settings, 1.0, p_out_w=RATED_W)[0] == pytest.approx(-0.44 * RATED_W, abs=1.0)
    assert steady(settings, 1.0, p_out_w=0.75 * RATED_W)[0] == pytest.approx(-0.22 * RATED_W,
                                                                              abs=1.0)
    assert steady(settings, 1.0, p_out_w=-5000.0)[0] == 0.0  # charging: no output, no var
    fixed = ReactivePowerSettings(mode="constant_var", constant_var_pu=-0.3)
    assert steady(fixed, 1.0)[0] == pytest.approx(-3300.0)


def test_reactive_power_has_priority_and_volt_watt_caps_the_output() -> None:
    q, p_limit, output_limit = steady(ReactivePowerSettings(mode="volt_var"), 1.10)
    assert p_limit == pytest.approx(math.sqrt(RATED_W ** 2 - q * q))
    assert p_limit == pytest.approx(0.898 * RATED_W, rel=1e-3)
    assert output_limit == RATED_W
    settings = ReactivePowerSettings(volt_watt=True)
    assert steady(settings, 1.08)[2] == pytest.approx(0.6 * RATED_W)  # halfway 1.06 -> 1.10
    assert steady(settings, 1.05)[2] == RATED_W
    assert steady(settings, 1.2)[2] == pytest.approx(0.2 * RATED_W)


def test_volt_var_reaches_ninety_percent_within_its_response_time() -> None:
    settings = ReactivePowerSettings(mode="volt_var")  # Cat B: 5 s
    full = -0.44 * RATED_W
    assert steady(settings, 1.10, seconds=3.9)[0] > 0.9 * full
    assert steady(settings, 1.10, seconds=4.1)[0] <= 0.9 * full


def test_the_curve_helper_is_flat_beyond_its_ends() -> None:
    assert interpolate(0.5, (1.0, 2.0), (3.0, 5.0)) == 3.0
    assert interpolate(1.5, (1.0, 2.0), (3.0, 5.0)) == 4.0
    assert interpolate(9.0, (1.0, 2.0), (3.0, 5.0)) == 5.0


@pytest.mark.parametrize(("text", "problem"), [
    ('mode = "volt_var"\nvolt_var_v2_pu = 1.03\nvolt_var_v3_pu = 1.0', "must rise"),
    ("volt_watt_v1_pu = 1.08\nvolt_watt_v2_pu = 1.07", "volt_watt_v1_pu"),
    ('mode = "sideways"', "mode"),
    ("constant_var_pu = nan", "constant_var_pu"),
    ("volt_var_q4_pu = 0.2", "volt_var_q4_pu")])
def test_bad_reactive_settings_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_config(f'[hal]\nbackend = "sim"\n[reactive_power]\n{text}\n')


def _v2g_at_high_voltage(reactive: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": {"name": "volt-var", "duration_s": 40.0, "seed": 9},
            "plant": {"ev_soc_pct": 80.0, "home_load_w": 0.0},
            "config": {"limits": {"max_discharge_power_w": RATED_W},
                       "reactive_power": reactive},
            "events": [{"at_s": 0.0, "kind": "request", "mode": "v2g",
                        "source": "grid_operator", "power_w": RATED_W},
                       {"at_s": 15.0, "kind": "grid_voltage", "pu": 1.06}],
            "expect": [{"kind": "no_trip"}, {"kind": "no_invariant_violation"}]}


def test_the_whole_charger_absorbs_reactive_power_at_high_voltage() -> None:
    """V2G at 11 kW, volt-var (Cat B), the utility at 1.06 p.u.: Q = -0.44 x (0.04 / 0.06) =
    -0.293 p.u. (absorbed: + in the inverter protocol and at the meter), P reduced to
    sqrt(1 - 0.293^2) of the rating. Read from the plant's inverter and from the controller's
    own meter reading and command."""
    seen: dict[float, tuple[float, float, float, float]] = {}

    def tick(sup: Supervisor) -> None:
        world = simulated(sup.hw).world
        snap, dispatch = sup.last_snapshot, sup.last_dispatch
        meter_q = snap.meter.grid_reactive_var if snap is not None and snap.meter else math.nan
        command_q = dispatch.command.q_set_var if dispatch is not None else math.nan
        seen[round(world.clock.now(), 2)] = (world.inverter.reactive_power_var,
                                             world.inverter.ac_power_w, meter_q, command_q)

    report = run_scenario(parse_scenario(_v2g_at_high_voltage({"mode": "volt_var"})),
                          progress=None, on_tick=tick)
    assert report["passed"], [e["explanation"] for e in report["expectations"]]
    q_abs = 0.44 * 0.04 / 0.06 * RATED_W
    plant_q, plant_p, meter_q, command_q = seen[39.9]
    assert seen[14.9][0] == 0.0 and seen[14.9][1] == pytest.approx(-RATED_W, abs=50.0)
    assert plant_q == pytest.approx(q_abs, rel=0.02)
    assert command_q == pytest.approx(q_abs, rel=0.02)
    assert meter_q == pytest.approx(q_abs, rel=0.05)  # the controller sees what it commanded
    assert -plant_p == pytest.approx(math.sqrt(RATED_W ** 2 - q_abs ** 2), rel=0.02)
    assert seen[20.0][0] >= 0.9 * q_abs  # within the 5 s response time


def test_volt_var_agrees_with_opender() -> None:
    """The same Cat B volt-var curve in OpenDER, exporting at 11 kW, at several voltages:
    the steady reactive power agrees within 1 % of the rating (OpenDER: + = injection)."""
    der = DER_BESS(NP_P_MAX=RATED_W, NP_VA_MAX=RATED_W, NP_P_MAX_CHARGE=RATED_W,
                   NP_APPARENT_POWER_CHARGE_MAX=RATED_W, NP_Q_MAX_INJ=0.44 * RATED_W,
                   NP_Q_MAX_ABS=0.44 * RATED_W, NP_AC_V_NOM=240, NP_NORMAL_OP_CAT="CAT_B")
    der.der_file.QV_MODE_ENABLE = True
    DER.t_s = 0.1
    settings = ReactivePowerSettings(mode="volt_var")
    for voltage in (0.90, 0.95, 0.99, 1.0, 1.03, 1.06, 1.09):
        der.update_der_input(v_pu=voltage, f=60.0, p_dem_w=5000.0)
        for _ in range(600):
            der.run()
        ours, _, _ = steady(dataclasses.replace(settings), voltage, p_out_w=5000.0)
        assert ours == pytest.approx(float(der.q_out_var), abs=0.01 * RATED_W), voltage
