"""The INA228 driver against its register model; the optional channel in the sim backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from controller.config.loader import parse_config
from hal.drivers.ina228 import Ina228
from hal.errors import HalSetupError, SensorFault
from hal.i2c import I2cBus
from hal.registry import open_backend
from hal.settings import Ina228Wiring
from hal.sim.chips.ina228_model import Ina228Model
from hal.sim.i2c_bus import SimSMBus

ADDRESS = 0x40
WIRING = Ina228Wiring(enabled=True)


@dataclass
class Plant:
    t: float = 0.0
    current_a: float = 80.0
    dc_v: float = 380.0

    def now(self) -> float:
        return self.t


def rig(plant: Plant, wiring: Ina228Wiring = WIRING) -> tuple[SimSMBus, Ina228Model, I2cBus]:
    model = Ina228Model(plant.now, lambda: plant.current_a * wiring.shunt_ohm,
                        lambda: plant.dc_v / wiring.bus_scale, np.random.default_rng(1),
                        noise_lsb=0.0)
    sim = SimSMBus()
    sim.add_device(ADDRESS, model)
    return sim, model, I2cBus(sim, "i2c-1")


def values(dev: Ina228) -> dict[str, float]:
    out = {}
    for name, ch in dev.channels.items():
        sample = ch.latest()
        assert sample is not None
        out[name] = sample.value
    return out


def test_reads_plant_values_within_quantisation() -> None:
    plant = Plant()
    _sim, _model, bus = rig(plant)
    dev = Ina228(bus, WIRING, plant.now)
    for _ in range(100):  # 2 s at 80 A and 380 V
        plant.t += 0.02
        dev.poll()
    v = values(dev)
    assert v["dc2_voltage_v"] == pytest.approx(380.0, abs=195.3125e-6 * WIRING.bus_scale)
    assert v["dc2_current_a"] == pytest.approx(80.0, abs=2 * dev.current_lsb_a)
    assert v["dc2_power_w"] == pytest.approx(80.0 * 380.0, rel=1e-3)
    assert v["dc2_energy_wh"] == pytest.approx(80.0 * 380.0 * 2.0 / 3600, rel=2e-2)
    assert v["dc2_charge_ah"] == pytest.approx(80.0 * 2.0 / 3600, rel=2e-2)


def test_missing_or_foreign_chip_is_a_setup_error() -> None:
    plant = Plant()
    sim, model, bus = rig(plant)
    sim.inject(ADDRESS, "absent")
    with pytest.raises(HalSetupError, match="INA228 on I2C i2c-1 address 0x40"):
        Ina228(bus, WIRING, plant.now)
    sim.clear(ADDRESS)
    model._regs[0x3F] = 0x2270  # an INA226-like die
    with pytest.raises(HalSetupError, match="not an INA228"):
        Ina228(bus, WIRING, plant.now)


def test_reset_chip_is_detected_by_shunt_cal_and_configured_again() -> None:
    plant = Plant()
    _sim, model, bus = rig(plant)
    dev = Ina228(bus, WIRING, plant.now)
    model.power_cycle()  # SHUNT_CAL back to 0x1000: the current would read wrong
    with pytest.raises(SensorFault, match="SHUNT_CAL"):
        for _ in range(30):
            dev.poll()
    dev.poll()
    assert values(dev)["dc2_current_a"] == pytest.approx(80.0, abs=2 * dev.current_lsb_a)


def test_hardware_alert_limits_latch() -> None:
    plant = Plant(current_a=50.0)
    _sim, _model, bus = rig(plant)
    dev = Ina228(bus, WIRING, plant.now)
    dev.poll()
    assert dev.alerts == frozenset()
    plant.current_a = 250.0  # above overcurrent_alert_a (200 A)
    plant.t += 0.02  # the chip compares conversions: time must pass (ADC_CONFIG timing)
    dev.poll()
    assert "shunt_over" in dev.alerts
    plant.dc_v = 600.0  # above overvoltage_alert_v (450 V)
    plant.t += 0.02
    dev.poll()
    assert "bus_over" in dev.alerts


def test_alert_limits_match_the_datasheet_worked_example() -> None:
    """TI SLYS021A (INA228), application section, fault thresholds: 10 A through 16.2 mOhm is
    162 mV, SOVL = 162 mV / (312.5 nV x 16) = 32400 (0x7E90); BOVL for 52 V is
    52 V / 3.125 mV = 16640 (0x4100). The limit LSBs are 16 x the 20-bit result LSBs."""
    wiring = Ina228Wiring(enabled=True, shunt_ohm=0.0162, max_current_a=10.0, bus_scale=1.0,
                          overcurrent_alert_a=10.0, overvoltage_alert_v=52.0)
    plant = Plant(current_a=1.0, dc_v=48.0)
    _sim, model, bus = rig(plant, wiring)
    Ina228(bus, wiring, plant.now)
    assert model.register(0x0C) == 0x7E90  # SOVL
    assert model.register(0x0D) == -0x7E90 & 0xFFFF  # SUVL, two's complement
    assert model.register(0x0E) == 0x4100  # BOVL


def test_sim_backend_adds_the_optional_channel_when_enabled() -> None:
    config = parse_config({"hal": {"backend": "sim", "i2c": {"ina228": {"enabled": True}}}})
    hw = open_backend(config.hal)
    try:
        assert "dc2_current_a" in hw.adc.channels and "dc_link_v" in hw.adc.channels
        hw.adc.poll()
        sample = hw.adc.channels["dc2_voltage_v"].latest()
        assert sample is not None and sample.value == pytest.approx(0.0, abs=0.01)
    finally:
        hw.close()


class IgnoresLimitWrites(Ina228Model):
    """A chip (or an isolator) that drops the write of one limit register."""

    def on_write(self, data: bytes) -> None:
        if len(data) >= 3 and data[0] == 0x0E:  # BOVL keeps its default 0x7FFF
            return
        super().on_write(data)


def test_a_limit_that_does_not_read_back_is_a_setup_error() -> None:
    """Issue 20: the alert limits are the hardware trip's levels; a chip holding another one
    (here BOVL still at its default, ~1 kV with the divider) must not start."""
    plant = Plant()
    model = IgnoresLimitWrites(plant.now, lambda: 0.0, lambda: 0.0, np.random.default_rng(1))
    sim = SimSMBus()
    sim.add_device(ADDRESS, model)
    with pytest.raises(HalSetupError, match=r"register 0x0E: reads 0x7FFF after writing"):
        Ina228(I2cBus(sim, "i2c-1"), WIRING, plant.now)


def test_limits_and_alert_control_read_back_as_written() -> None:
    plant = Plant()
    _sim, model, bus = rig(plant)
    Ina228(bus, WIRING, plant.now)
    assert model.register(0x0E) == round(450.0 / 10.0 / 3.125e-3)  # BOVL: 45 V at the pin
    assert model.register(0x0C) == round(200.0 * 0.0005 / 5e-6)  # SOVL: 100 mV
    assert model.register(0x0B) & 0xF000 == 1 << 15  # ALATCH; CNVR, SLOWALERT, APOL 0
    assert model.register(0x01) >> 12 == 0xB  # continuous shunt and bus
