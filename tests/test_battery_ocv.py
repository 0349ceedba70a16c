"""The battery model's open-circuit voltage curve, interpolated without numpy, is numpy's own
``interp`` bit for bit (the plant's results must not move by one ulp: speed work keeps every
scenario report identical)."""

from __future__ import annotations

import numpy as np

from hal.sim.plant.battery import _CELL_OCV_V, _SOC_POINTS, BatteryParams, EvBattery, cell_ocv_v


def test_cell_ocv_is_numpys_interp_bit_for_bit() -> None:
    rng = np.random.default_rng(20)
    socs = [*rng.uniform(-0.1, 1.1, 20_000), *_SOC_POINTS, 0.0, 1.0, -0.0, 1e-300,
            *np.nextafter(_SOC_POINTS, 2.0), *np.nextafter(_SOC_POINTS, -2.0)]
    for soc in socs:
        expected = float(np.interp(float(soc), _SOC_POINTS, _CELL_OCV_V))
        assert cell_ocv_v(float(soc)).hex() == expected.hex(), soc


def test_the_battery_answers_as_with_numpy() -> None:
    battery = EvBattery(BatteryParams(), 37.0)
    for power_w in (-11_000.0, -5.0, 0.0, 3.0, 7_400.0, 11_000.0):
        ocv = float(np.interp(battery.soc, _SOC_POINTS, _CELL_OCV_V)) * 96
        disc = ocv * ocv + 4.0 * 0.08 * power_w
        expected = float((-ocv + np.sqrt(disc)) / (2.0 * 0.08))
        assert battery.current_for_power(power_w).hex() == expected.hex()
        battery.step(battery.current_for_power(power_w), 1.0)
