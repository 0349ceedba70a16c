"""The ADE7953 and ADS1115 drivers against the register-level chip models on the simulated bus.

No mocks: the models are the simulator, driven through a real :class:`hal.i2c.I2cBus`.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smbus2 import i2c_msg

from controller.config.loader import parse_config
from hal.drivers.ade7953 import SLOW_SLOTS, Ade7953, MeterGains
from hal.drivers.ade7953_registers import (
    REG_AIGAIN_32,
    REG_CONFIG,
    REG_OPTIMUM,
    REG_ZXTOUT,
    ZXTOUT_COUNTS,
    ZXTOUT_S,
)
from hal.drivers.ads1115 import (
    TIMEOUT_FACTOR,
    Ads1115,
    Ads1115Channel,
    DividerRatio,
    decode_conversion,
)
from hal.errors import HalIOError, HalSetupError, SensorFault, V2xError
from hal.i2c import I2cBus
from hal.interfaces.meter import AcMeterReading
from hal.registry import open_backend
from hal.settings import AdcChannelsWiring, AdcChannelWiring, AdcWiring, MeterWiring
from hal.sim.chips import Ade7953Model, Ads1115Model
from hal.sim.i2c_bus import SimSMBus
from hal.sim.truth import MeterTruth

METER = 0x38
ADC = 0x48
PERIOD_CLOCK_HZ = 223_750.0
TICK_S = 0.02


class FakeClock:
    """A clock the test advances by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class TruthBox:
    """The meter's truth source; tests swap ``value``."""

    def __init__(self, value: MeterTruth) -> None:
        self.value = value

    def __call__(self) -> MeterTruth:
        return self.value


def grid_truth(voltage: float = 230.0, frequency: float = 50.0) -> MeterTruth:
    return MeterTruth(
        voltage_rms_v=voltage,
        frequency_hz=frequency,
        grid_current_rms_a=12.5,
        grid_power_w=2750.0,
        grid_reactive_var=-310.0,
        pv_current_rms_a=4.2,
        pv_power_w=960.0,
    )


@dataclass
class MeterWorld:
    sim: SimSMBus
    bus: I2cBus
    model: Ade7953Model
    truth: TruthBox
    clock: FakeClock
    wiring: MeterWiring


def meter_world(truth: MeterTruth, *, noise: bool = False, retries: int = 3,
                seed: int = 1, timed: bool = False) -> MeterWorld:
    """``timed``: the model runs on the test's clock (zero crossings, ZXTOUT, energy)."""
    wiring = MeterWiring()
    box = TruthBox(truth)
    rng = np.random.default_rng(seed)
    clock = FakeClock(5.0)
    model = Ade7953Model(box, wiring, rng, noiseless=not noise, now=clock if timed else None)
    sim = SimSMBus(seed=seed + 1000)
    sim.add_device(METER, model)
    return MeterWorld(sim, I2cBus(sim, "i2c-1", retries=retries), model, box, clock, wiring)


def open_meter(world: MeterWorld) -> Ade7953:
    return Ade7953(world.bus, world.wiring, world.clock)


def period_step_hz(frequency: float) -> float:
    """Frequency change of one PERIOD count at ``frequency``."""
    return frequency * frequency / PERIOD_CLOCK_HZ


# --- SimSMBus ---------------------------------------------------------------------------------


def test_missing_address_is_remote_io_error() -> None:
    sim = SimSMBus()
    with pytest.raises(OSError) as info:
        sim.read_i2c_block_data(0x40, 0x00, 2)
    assert info.value.errno == errno.EREMOTEIO
    assert sim.transfers[0x40] == 1
    assert sim.nacks[0x40] == 1


def test_unknown_fault_is_rejected() -> None:
    with pytest.raises(ValueError):
        SimSMBus().inject(METER, "smoke")


def read_ade_register(sim: SimSMBus, register: int, n: int) -> bytes:
    """A combined transaction with real smbus2 messages, as the driver does it."""
    read = i2c_msg.read(METER, n)
    sim.i2c_rdwr(i2c_msg.write(METER, [register >> 8, register & 0xFF]), read)
    return bytes(read)


def test_rdwr_fills_read_buffers_big_endian() -> None:
    world = meter_world(grid_truth())
    vrms = read_ade_register(world.sim, 0x31C, 4)
    assert int.from_bytes(vrms, "big") == round(230.0 * world.wiring.voltage_counts_per_v)
    assert read_ade_register(world.sim, 0x0FD, 1) == b"\x35"  # LAST_OP: a read
    assert world.sim.transfers[METER] == 2


def test_stuck_repeats_last_answer_and_clear_recovers() -> None:
    world = meter_world(grid_truth())
    vrms = read_ade_register(world.sim, 0x31C, 4)
    world.sim.inject(METER, "stuck")
    assert read_ade_register(world.sim, 0x10E, 2) == vrms[:2]  # PERIOD asked, VRMS answered
    assert read_ade_register(world.sim, 0x10E, 2) == vrms[:2]
    world.sim.clear(METER)
    assert read_ade_register(world.sim, 0x10E, 2) == (4474).to_bytes(2, "big")


def test_ade_model_ignores_0x120_write_without_unlock() -> None:
    world = meter_world(grid_truth())
    world.sim.i2c_rdwr(i2c_msg.write(METER, [0x01, 0x20, 0x00, 0x30]))
    assert world.model.stored(REG_OPTIMUM) == 0x0000
    world.sim.i2c_rdwr(i2c_msg.write(METER, [0x00, 0xFE, 0xAD]))
    world.sim.i2c_rdwr(i2c_msg.write(METER, [0x01, 0x20, 0x00, 0x30]))
    assert world.model.stored(REG_OPTIMUM) == 0x0030


# --- ADE7953 ----------------------------------------------------------------------------------


def test_ade_startup_writes_required_settings() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    assert meter.version == world.model.version
    assert world.model.stored(REG_OPTIMUM) == 0x0030
    assert world.model.stored(REG_CONFIG) == 0x8004
    assert world.model.stored(REG_ZXTOUT) == ZXTOUT_COUNTS


@pytest.mark.parametrize(("voltage", "frequency"), [(230.0, 50.0), (120.0, 60.0)])
def test_ade_reads_truth_exactly_without_noise(voltage: float, frequency: float) -> None:
    world = meter_world(grid_truth(voltage, frequency))
    reading = open_meter(world).read()
    w = world.wiring
    assert reading.t == 5.0
    assert not reading.voltage_lost
    assert reading.voltage_rms_v == pytest.approx(voltage, abs=0.5 / w.voltage_counts_per_v)
    assert reading.frequency_hz == pytest.approx(
        PERIOD_CLOCK_HZ / round(PERIOD_CLOCK_HZ / frequency))
    assert abs(reading.frequency_hz - frequency) <= 0.5 * period_step_hz(frequency) * 1.01
    assert reading.grid_current_rms_a == pytest.approx(12.5, abs=0.5 / w.current_counts_per_a)
    assert reading.pv_current_rms_a == pytest.approx(4.2, abs=0.5 / w.current_counts_per_a)
    assert reading.grid_power_w == pytest.approx(2750.0, abs=0.5 / w.power_counts_per_w)
    assert reading.grid_reactive_var == pytest.approx(-310.0, abs=0.5 / w.power_counts_per_w)
    assert reading.pv_power_w == pytest.approx(960.0, abs=0.5 / w.power_counts_per_w)


@pytest.mark.parametrize("frequency", [50.0, 60.0])
def test_ade_reads_truth_within_noise(frequency: float) -> None:
    world = meter_world(grid_truth(230.0, frequency), noise=True)
    meter = open_meter(world)
    for _ in range(20):
        reading = meter.read()
        assert reading.voltage_rms_v == pytest.approx(230.0, rel=1e-3)
        assert reading.grid_current_rms_a == pytest.approx(12.5, rel=1e-3)
        assert reading.grid_power_w == pytest.approx(2750.0, rel=3e-3)
        assert reading.pv_power_w == pytest.approx(960.0, rel=3e-3)
        assert abs(reading.frequency_hz - frequency) <= 1.6 * period_step_hz(frequency)


def test_ade_sign_conventions_export_and_generation() -> None:
    truth = dataclasses.replace(grid_truth(), grid_power_w=-3100.0, pv_power_w=4000.0)
    reading = open_meter(meter_world(truth)).read()
    assert reading.grid_power_w == pytest.approx(-3100.0, abs=0.01)  # export
    assert reading.pv_power_w == pytest.approx(4000.0, abs=0.01)  # generation


def dead_truth() -> MeterTruth:
    return dataclasses.replace(grid_truth(), voltage_rms_v=0.0, frequency_hz=0.0,
                               grid_current_rms_a=0.0, grid_power_w=0.0, grid_reactive_var=0.0)


def run_meter(world: MeterWorld, meter: Ade7953, seconds: float) -> list[AcMeterReading]:
    readings = []
    for _ in range(round(seconds / TICK_S)):
        world.clock.advance(TICK_S)
        readings.append(meter.read())
    return readings


def test_ade_voltage_lost_after_zxtout_and_back_at_the_next_crossing() -> None:
    world = meter_world(grid_truth(), timed=True)
    meter = open_meter(world)
    run_meter(world, meter, 0.2)
    world.truth.value = dead_truth()
    readings = run_meter(world, meter, 0.2)
    lost_at = next(i for i, r in enumerate(readings) if r.voltage_lost) * TICK_S + TICK_S
    assert ZXTOUT_S <= lost_at <= ZXTOUT_S + TICK_S  # latched after ZXTOUT, not at once
    assert all(r.voltage_lost and r.frequency_hz == 0.0 for r in readings[-5:])
    assert readings[-1].voltage_rms_v == 0.0
    world.truth.value = grid_truth()
    back = run_meter(world, meter, 0.1)
    assert not back[-1].voltage_lost
    assert back[-1].frequency_hz == pytest.approx(50.0, abs=0.02)


def test_ade_absent_raises_setup_error_naming_bus_address_chip() -> None:
    world = meter_world(grid_truth())
    world.sim.inject(METER, "absent")
    with pytest.raises(HalSetupError) as info:
        open_meter(world)
    message = str(info.value)
    assert "i2c-1" in message
    assert "0x38" in message
    assert "ADE7953" in message
    assert isinstance(info.value, OSError)


def test_ade_garbage_at_startup_is_a_setup_error() -> None:
    world = meter_world(grid_truth())
    world.sim.inject(METER, "garbage")
    with pytest.raises(HalSetupError):
        open_meter(world)


def test_ade_nack_within_retries_is_absorbed() -> None:
    world = meter_world(grid_truth(), retries=3)
    meter = open_meter(world)
    world.sim.inject(METER, "nack_next:2")
    reading = meter.read()
    assert reading.voltage_rms_v == pytest.approx(230.0, abs=1e-4)
    assert world.sim.nacks[METER] == 2
    assert world.bus.errors == 2


def test_ade_nack_beyond_retries_is_sensor_fault_then_recovers() -> None:
    world = meter_world(grid_truth(), retries=3)
    meter = open_meter(world)
    world.sim.inject(METER, "nack_next:5")
    with pytest.raises(SensorFault) as info:
        meter.read()
    assert "ADE7953" in str(info.value)
    assert "0x38" in str(info.value)
    assert meter.read().voltage_rms_v == pytest.approx(230.0, abs=1e-4)  # 2 NACKs left: retried
    assert world.sim.nacks[METER] == 5


def test_ade_verified_write_detects_an_unconfirmed_write() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    meter.verified_write(REG_AIGAIN_32, 0x400000)  # a 32-bit register confirms
    world.sim.inject(METER, "stuck")
    with pytest.raises(HalIOError, match="not confirmed"):
        meter.verified_write(REG_CONFIG, 0x8004)


def test_ade_garbage_gives_only_v2x_errors() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    world.sim.inject(METER, "garbage")
    faults = 0
    for _ in range(200):
        try:
            reading = meter.read()
        except SensorFault:
            faults += 1
            continue
        assert math.isfinite(reading.voltage_rms_v)
    assert faults > 150  # the sign-extension byte catches nearly every corrupted word


@settings(max_examples=60, deadline=None)
@given(
    voltage=st.floats(min_value=1.0, max_value=320.0),
    frequency=st.floats(min_value=40.0, max_value=70.0),
    grid_power=st.floats(min_value=-20_000.0, max_value=20_000.0),
    pv_power=st.floats(min_value=-100.0, max_value=20_000.0),
    current=st.floats(min_value=0.0, max_value=80.0),
)
def test_ade_round_trip_within_quantisation(voltage: float, frequency: float, grid_power: float,
                                            pv_power: float, current: float) -> None:
    truth = MeterTruth(voltage, frequency, current, grid_power, 0.0, current / 2, pv_power)
    world = meter_world(truth)
    reading = open_meter(world).read()
    w = world.wiring
    assert abs(reading.voltage_rms_v - voltage) <= 0.5 / w.voltage_counts_per_v + 1e-12
    assert abs(reading.grid_current_rms_a - current) <= 0.5 / w.current_counts_per_a + 1e-12
    assert abs(reading.grid_power_w - grid_power) <= 0.5 / w.power_counts_per_w + 1e-9
    assert abs(reading.pv_power_w - pv_power) <= 0.5 / w.power_counts_per_w + 1e-9
    assert abs(reading.frequency_hz - frequency) <= 0.51 * period_step_hz(frequency) * 1.01


# --- ADS1115 ----------------------------------------------------------------------------------


@dataclass
class AdcWorld:
    sim: SimSMBus
    bus: I2cBus
    model: Ads1115Model
    pins: dict[int, float]
    clock: FakeClock
    wiring: AdcWiring


def adc_world(*, noise_lsb: float = 0.0, wiring: AdcWiring | None = None,
              model_clock: FakeClock | None = None, seed: int = 3) -> AdcWorld:
    clock = FakeClock(100.0)
    # 400 V DC link, 350 V EV inlet (200:1 dividers), -20 A (1.65 V - 20 A * 10 mV/A)
    pins = {0: 2.0, 1: 1.75, 2: 1.45, 3: 0.0}
    model = Ads1115Model(model_clock or clock, pins.__getitem__, np.random.default_rng(seed),
                         noise_lsb=noise_lsb)
    sim = SimSMBus(rng=np.random.default_rng(seed + 1000))
    sim.add_device(ADC, model)
    return AdcWorld(sim, I2cBus(sim, "i2c-1", retries=3), model, pins, clock,
                    wiring or AdcWiring())


def open_adc(world: AdcWorld) -> Ads1115:
    return Ads1115(world.bus, world.wiring, world.clock)


def run_ticks(adc: Ads1115, clock: FakeClock, ticks: int) -> None:
    for _ in range(ticks):
        adc.poll()
        clock.advance(TICK_S)


def lsb_in_units(wiring: AdcChannelWiring) -> float:
    return wiring.fsr_v / 32768 * abs(wiring.scale)


def test_decode_conversion_is_big_endian_twos_complement() -> None:
    assert decode_conversion(b"\x00\x01") == 1
    assert decode_conversion(b"\x01\x00") == 256
    assert decode_conversion(b"\xff\xff") == -1
    assert decode_conversion(b"\xe0\xc0") == -8000
    assert decode_conversion(b"\x80\x00") == -32768
    assert decode_conversion(b"\x7f\xff") == 32767


def test_ads_model_differential_mux() -> None:
    world = adc_world()
    # MUX 000 = AIN0 - AIN1, PGA 010 = +-2.048 V, single-shot, 860 SPS, OS=1
    config = 0x8000 | 0b000 << 12 | 0b010 << 9 | 1 << 8 | 0b111 << 5 | 0b11
    world.sim.write_i2c_block_data(ADC, 0x01, list(config.to_bytes(2, "big")))
    assert world.model.busy
    world.clock.advance(1 / 860)
    assert world.sim.read_i2c_block_data(ADC, 0x01, 2)[0] & 0x80  # OS: done
    counts = decode_conversion(bytes(world.sim.read_i2c_block_data(ADC, 0x00, 2)))
    assert counts == round((2.0 - 1.75) / (2.048 / 32768))


def test_ads_probe_leaves_chip_configured_idle() -> None:
    world = adc_world()
    adc = open_adc(world)
    assert adc.power_up_config == 0x8583
    assert not world.model.busy
    assert set(adc.channels) == {"dc_link_v", "ev_inlet_v", "dc_current_a"}
    assert {n: c.unit for n, c in adc.channels.items()} == {
        "dc_link_v": "V", "ev_inlet_v": "V", "dc_current_a": "A"}
    assert all(c.latest() is None for c in adc.channels.values())


def test_ads_absent_raises_setup_error_naming_bus_address_chip() -> None:
    world = adc_world()
    world.sim.inject(ADC, "absent")
    with pytest.raises(HalSetupError) as info:
        open_adc(world)
    message = str(info.value)
    assert "i2c-1" in message
    assert "0x48" in message
    assert "ADS1115" in message


def test_ads_rejects_a_different_chip_at_its_address() -> None:
    sim = SimSMBus()
    meter = Ade7953Model(TruthBox(grid_truth()), MeterWiring(), np.random.default_rng(0))
    sim.add_device(ADC, meter)
    with pytest.raises(HalSetupError, match="does not look like"):
        Ads1115(I2cBus(sim, "i2c-1"), AdcWiring(), FakeClock())


def test_ads_pipeline_yields_all_channels_in_engineering_units() -> None:
    world = adc_world()
    adc = open_adc(world)
    run_ticks(adc, world.clock, 10)
    expected = {"dc_link_v": 400.0, "ev_inlet_v": 350.0, "dc_current_a": -20.0}
    for name, value in expected.items():
        sample = adc.channels[name].latest()
        assert sample is not None, name
        tolerance = lsb_in_units(getattr(world.wiring.channels, name))
        assert sample.value == pytest.approx(value, abs=tolerance), name
        assert world.clock.t - sample.t <= 3 * TICK_S + 1e-9


def test_ads_pipeline_is_non_blocking_one_step_per_tick() -> None:
    world = adc_world()
    adc = open_adc(world)
    channels = adc.channels
    adc.poll()  # starts dc_link_v
    assert world.model.busy
    world.clock.advance(0.001)  # 1 ms < 7.8 ms at 128 SPS
    before = world.sim.transfers[ADC]
    adc.poll()
    assert world.sim.transfers[ADC] == before + 1  # one Config read, nothing else
    assert channels["dc_link_v"].latest() is None
    world.clock.advance(TICK_S)
    adc.poll()  # collects dc_link_v, starts ev_inlet_v
    assert channels["dc_link_v"].latest() is not None
    assert channels["ev_inlet_v"].latest() is None
    assert world.model.busy


def test_ads_pipeline_within_noise() -> None:
    world = adc_world(noise_lsb=1.0)
    adc = open_adc(world)
    expected = {"dc_link_v": 400.0, "ev_inlet_v": 350.0, "dc_current_a": -20.0}
    for _ in range(20):
        run_ticks(adc, world.clock, 6)
        for name, value in expected.items():
            sample = adc.channels[name].latest()
            assert sample is not None
            tolerance = 5 * lsb_in_units(getattr(world.wiring.channels, name))
            assert sample.value == pytest.approx(value, abs=tolerance), name


def test_ads_negative_pin_voltage_round_trips_big_endian() -> None:
    single = AdcChannelWiring(ain=3, fsr_v=2.048, scale=1.0, offset_v=0.0)
    wiring = AdcWiring(channels=AdcChannelsWiring(dc_link_v=single, ev_inlet_v=single,
                                                  dc_current_a=single))
    world = adc_world(wiring=wiring)
    world.pins[3] = -0.5  # -8000 LSB of 62.5 uV = 0xE0C0
    adc = open_adc(world)
    run_ticks(adc, world.clock, 3)
    sample = adc.channels["dc_link_v"].latest()
    assert sample is not None
    assert sample.value == -0.5
    assert world.sim.read_i2c_block_data(ADC, 0x00, 2) == [0xE0, 0xC0]


def test_ads_conversion_that_never_completes_is_a_bounded_sensor_fault() -> None:
    frozen = FakeClock(0.0)  # the chip's clock never reaches the end of the conversion
    world = adc_world(model_clock=frozen)
    adc = open_adc(world)
    bound = TIMEOUT_FACTOR / world.wiring.data_rate_sps
    start = world.clock.t
    adc.poll()
    with pytest.raises(SensorFault, match="not done") as info:
        while True:
            world.clock.advance(TICK_S)
            adc.poll()
    assert "ADS1115" in str(info.value)
    waited = world.clock.t - start
    assert bound < waited <= bound + TICK_S
    adc.poll()  # the next tick restarts the conversion instead of raising again
    assert world.model.busy


def test_ads_stuck_busy_chip_is_a_sensor_fault() -> None:
    world = adc_world()
    adc = open_adc(world)
    adc.poll()
    world.clock.advance(0.001)
    adc.poll()  # reads Config with OS=0: the bus's last answer
    world.sim.inject(ADC, "stuck")
    with pytest.raises(SensorFault):
        for _ in range(10):
            world.clock.advance(TICK_S)
            adc.poll()


def test_ads_nack_beyond_retries_is_sensor_fault_then_recovers() -> None:
    world = adc_world()
    adc = open_adc(world)
    world.sim.inject(ADC, "nack_next:3")
    with pytest.raises(SensorFault, match="0x48"):
        adc.poll()
    run_ticks(adc, world.clock, 4)
    assert all(c.latest() is not None for c in adc.channels.values())


def test_ads_garbage_gives_only_v2x_errors_or_out_of_range_values() -> None:
    world = adc_world()
    adc = open_adc(world)
    run_ticks(adc, world.clock, 4)
    world.sim.inject(ADC, "garbage")
    faults = 0
    for _ in range(300):
        try:
            adc.poll()
        except V2xError:
            faults += 1
        world.clock.advance(TICK_S)
    assert faults > 0
    for channel in adc.channels.values():
        sample = channel.latest()
        assert sample is not None
        assert math.isfinite(sample.value)


def test_ads_fresh_hides_stale_samples() -> None:
    world = adc_world()
    adc = open_adc(world)
    run_ticks(adc, world.clock, 4)
    channel = adc.channels["dc_link_v"]
    assert isinstance(channel, Ads1115Channel)
    assert channel.fresh() is not None
    world.clock.advance(1.5)
    assert channel.fresh() is None
    assert channel.latest() is not None


# --- ADE7953: round robin, gains, energy, status, restart and logging -------------------------


def test_ade_reads_slow_quantities_round_robin() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    meter.read()  # the first reading reads everything
    before = world.sim.transfers[METER]
    for _ in range(len(SLOW_SLOTS)):
        meter.read()
    per_reading = (world.sim.transfers[METER] - before) / len(SLOW_SLOTS)
    assert per_reading <= 5.2  # 4 fast registers + one slow slot (the verify slot reads two)
    world.truth.value = dataclasses.replace(grid_truth(), pv_power_w=1500.0)
    values = [meter.read().pv_power_w for _ in range(len(SLOW_SLOTS))]
    assert values[-1] == pytest.approx(1500.0)  # refreshed within one round


def test_ade_reads_everything_again_after_a_failure() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    meter.read()
    world.truth.value = dataclasses.replace(grid_truth(), pv_power_w=1500.0)
    world.sim.inject(METER, "nack_next:3")
    with pytest.raises(SensorFault):
        meter.read()
    assert meter.read().pv_power_w == pytest.approx(1500.0)  # no value older than the fault


def test_ade_gain_registers_scale_inside_the_chip() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    meter.write_gains(MeterGains(voltage=1.02, grid_power=0.98))
    assert world.model.stored(0x381) == round(1.02 * 0x400000)
    reading = meter.read()
    assert reading.voltage_rms_v == pytest.approx(230.0 * 1.02, abs=1e-4)
    assert reading.grid_power_w == pytest.approx(2750.0 * 0.98, abs=0.01)
    with pytest.raises(ValueError, match="outside"):
        meter.write_gains(MeterGains(voltage=2.5))


def test_ade_energy_accumulators_count_import_export_and_pv() -> None:
    world = meter_world(grid_truth(), timed=True)
    meter = open_meter(world)
    run_meter(world, meter, 3.6)
    world.truth.value = dataclasses.replace(grid_truth(), grid_power_w=-1000.0)
    last = run_meter(world, meter, 3.6)[-1]
    slack = len(SLOW_SLOTS) * TICK_S / 3600 * 3000  # up to one round not yet collected
    assert last.grid_import_wh == pytest.approx(2.75, abs=slack)
    assert last.grid_export_wh == pytest.approx(1.0, abs=slack)
    assert last.pv_energy_wh == pytest.approx(0.96 * 2, abs=slack)


def test_ade_sag_and_overvoltage_are_reported_once_latched() -> None:
    world = meter_world(grid_truth(), timed=True)
    meter = open_meter(world)
    run_meter(world, meter, 0.1)
    world.truth.value = grid_truth(voltage=100.0)  # below sag_level_v (120 V) for > 4 half cycles
    assert any(r.sag for r in run_meter(world, meter, 0.1))
    world.truth.value = grid_truth(voltage=300.0)  # peak 424 V > overvoltage_peak_v (410 V)
    readings = run_meter(world, meter, 0.1)
    assert any(r.over_voltage for r in readings)
    assert not readings[0].sag or not readings[-1].sag  # latched events are read-with-reset


def test_ade_restart_is_detected_and_configured_again() -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    meter.write_gains(MeterGains(voltage=1.01))
    world.model.power_cycle()
    assert world.model.stored(REG_OPTIMUM) == 0
    reading = meter.read()
    assert meter.reconfigurations == 1
    assert world.model.stored(REG_OPTIMUM) == 0x0030
    assert world.model.stored(REG_ZXTOUT) == ZXTOUT_COUNTS
    assert reading.voltage_rms_v == pytest.approx(230.0 * 1.01, abs=1e-4)  # gains restored


def test_ade_loss_and_return_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    world = meter_world(grid_truth())
    meter = open_meter(world)
    world.sim.inject(METER, "absent")
    with caplog.at_level(logging.WARNING, logger="hal.drivers.ade7953"):
        for _ in range(10):
            with pytest.raises(SensorFault):
                meter.read()
        world.sim.clear(METER)
        for _ in range(10):
            meter.read()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("stopped answering" in m for m in messages) == 1
    assert sum("answers again" in m for m in messages) == 1
    assert "0x38" in messages[0] and "i2c-1" in messages[0]


def test_sim_backend_with_the_meter_missing_names_bus_address_chip() -> None:
    settings = parse_config({"hal": {"backend": "sim"}}).hal
    with pytest.raises(HalSetupError) as info:
        open_backend(settings, absent_i2c=(METER,))
    assert "ADE7953 on I2C sim-i2c address 0x38" in str(info.value)


def test_ads_raw_pin_volts_and_divider_ratio() -> None:
    world = adc_world()
    adc = open_adc(world)
    channel = adc.channels["dc_current_a"]
    assert isinstance(channel, Ads1115Channel)
    ratio = DividerRatio(channel, reference_v=3.3)
    with pytest.raises(SensorFault, match="no conversion"):
        ratio.read()
    run_ticks(adc, world.clock, 10)
    pin = channel.latest_pin_volts()
    assert pin is not None and pin.value == pytest.approx(1.45, abs=4.096 / 32768)
    assert ratio.read() == pytest.approx(1.45 / 3.3, abs=1e-4)
    world.clock.advance(5.0)  # nothing converted for 5 s: stale, not reused
    with pytest.raises(SensorFault):
        ratio.read()
