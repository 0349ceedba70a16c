"""Contract tests: one class per HAL interface, run over every backend.

Like gpiozero's suite over its pin factories, the same tests run against each backend the
controller can be given: the simulator always, the Raspberry Pi when ``V2X_TEST_PI=1`` (on the
Pi, with its config at ``V2X_TEST_PI_CONFIG`` or the reference wiring). What a test needs from
the far side of a bus says where it can run: a second python-can bus on the same channel exists
on both (socketcan loops frames back to other sockets); planting a fault or reading a coil pin
needs the simulated world and skips on the Pi with the reason. Tests that energise a coil run on
the Pi only on a bench rig with nothing connected behind the contactors
(``V2X_TEST_PI_ENERGISE=1``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import can
import pytest

from controller.config.loader import load_config, parse_config
from hal.drivers.ads1115 import (
    GUARD_COMPARATOR,
    LO_THRESH_NEVER,
    REG_CONFIG,
    REG_HI_THRESH,
    REG_LO_THRESH,
    config_word,
)
from hal.errors import HalIOError, ProtocolError, SensorFault
from hal.i2c import I2cBus
from hal.interfaces.hardware import Hardware
from hal.registry import open_backend
from hal.settings import HalSettings
from hal.sim.backend import simulated
from hal.sim.can_bus import open_sim_bus
from hal.sim.world import SimWorld

PI_SKIP = "needs Raspberry Pi hardware; run with V2X_TEST_PI=1 on the Pi"
ENERGISE_SKIP = ("energises a coil: on the Pi only on a bench rig with nothing behind the "
                 "contactors (V2X_TEST_PI_ENERGISE=1)")
SIM_ONLY = "needs the far side of the bus (the simulated world); on the Pi `v2xctl doctor`"
CONSOLE_PORT = "/dev/ttyGS0"
SETTLE_S = 0.2  # coil delay (30 ms), aux contact and input debounce all inside it
CAN_WAIT_S = 0.05  # socketcan loop-back on the Pi; nothing in the simulator
TEST_ID = 0x7A5  # used by neither protocol: the simulated peers ignore it
EPOCH_2020 = 1.577e9
ALERT_SETTLE_S = 0.05  # the ADS1115 at 128 SPS: 7.8 ms a conversion, two latch ALERT


@dataclass
class Rig:
    """A built backend and what a test can reach on the far side of its buses."""

    backend: str
    hardware: Hardware
    settings: HalSettings

    def world(self) -> SimWorld:
        """The simulated world; skips the test on real hardware."""
        if self.backend != "sim":
            pytest.skip(SIM_ONLY)
        return simulated(self.hardware).world

    def energising_allowed(self) -> None:
        if self.backend != "sim" and os.environ.get("V2X_TEST_PI_ENERGISE") != "1":
            pytest.skip(ENERGISE_SKIP)

    def settle(self, seconds: float = SETTLE_S) -> None:
        clock = self.hardware.clock
        clock.sleep_until(clock.now() + seconds)

    def can_peer(self, role: str) -> can.BusABC:
        """A second bus on the channel of link ``role``: it sees what the link sends."""
        if self.backend == "sim":
            return open_sim_bus(simulated(self.hardware).world.can_channels[role])
        channel = {"inverter": self.settings.can.inverter_channel,
                   "ev": self.settings.can.ev_channel}[role]
        return can.Bus(interface=self.settings.can.interface, channel=channel)


def _pi_settings() -> HalSettings:  # pragma: no cover - hardware only
    path = os.environ.get("V2X_TEST_PI_CONFIG")
    config = load_config(path) if path else parse_config({"hal": {"backend": "pi"}})
    return config.hal


BACKENDS = [
    pytest.param("sim", id="sim"),
    pytest.param("pi", id="pi", marks=[
        pytest.mark.pi, pytest.mark.skipif(os.environ.get("V2X_TEST_PI") != "1", reason=PI_SKIP)]),
]


@pytest.fixture(params=BACKENDS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "sim":
        settings = parse_config({"hal": {"serial": {"ports": [CONSOLE_PORT]}}}).hal
    else:  # pragma: no cover - hardware only
        settings = _pi_settings()
    hardware = open_backend(settings)
    try:
        yield Rig(request.param, hardware, settings)
    finally:
        hardware.close()


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


class TestContactor:
    def test_every_contactor_starts_de_energised(self, rig: Rig) -> None:
        rig.settle()
        for name, contactor in rig.hardware.contactors.items():
            assert contactor.commanded_closed == contactor.normally_closed, name
            feedback = contactor.feedback_closed
            assert feedback is None or feedback == contactor.normally_closed, name

    def test_the_aux_contact_follows_the_command_and_de_energise_returns_it(
            self, rig: Rig) -> None:
        rig.energising_allowed()
        for name, contactor in rig.hardware.contactors.items():
            wanted = not contactor.normally_closed  # the position that needs the coil
            contactor.set_closed(wanted)
            assert contactor.commanded_closed == wanted
            rig.settle()
            assert contactor.feedback_closed in (None, wanted), name
            contactor.de_energise()
            assert contactor.commanded_closed == contactor.normally_closed
            rig.settle()
            assert contactor.feedback_closed in (None, contactor.normally_closed), name

    def test_de_energise_never_raises_even_twice_or_after_close(self, rig: Rig) -> None:
        contactor = rig.hardware.contactors["dc"]
        contactor.de_energise()
        contactor.de_energise()
        contactor.close()
        contactor.de_energise()
        assert not contactor.commanded_closed

    def test_close_drops_the_coil(self, rig: Rig) -> None:
        rig.energising_allowed()
        world = rig.world()
        contactor = rig.hardware.contactors["ac"]
        contactor.set_closed(True)
        rig.settle()
        assert world.contactor_closed("ac")
        contactor.close()
        rig.settle()
        assert not world.contactor_closed("ac")
        assert not world.pin(rig.settings.gpio.contactors.ac.coil_pin).state


class TestDigitalInput:
    def test_reads_a_stable_logical_state(self, rig: Rig) -> None:
        for name, inp in rig.hardware.inputs.items():
            first = inp.read()
            assert isinstance(first, bool), name
            assert inp.read() == first, name

    def test_polarity_is_applied_so_active_means_healthy_or_present(self, rig: Rig) -> None:
        world = rig.world()
        estop = rig.hardware.inputs["estop"]
        assert estop.read()  # active: the loop is closed
        world.press_estop()
        assert not estop.read()
        world.release_estop()
        assert estop.read()

    @pytest.mark.parametrize(("active_high", "pull"), [
        (False, "none"), (False, "up"), (False, "down"), (True, "up"), (True, "down")])
    def test_every_polarity_and_pull_reads_the_logical_state(self, active_high: bool,
                                                             pull: str) -> None:
        settings = parse_config({"hal": {"gpio": {"inputs": {"door": {
            "active_high": active_high, "pull": pull}}}}}).hal
        hardware = open_backend(settings)
        try:
            world = simulated(hardware).world
            door = hardware.inputs["door"]
            level = world.pin(settings.gpio.inputs.door.pin)
            assert door.read() and bool(level.state) == active_high  # closed: the active level
            world.door_closed = False
            hardware.clock.sleep_until(hardware.clock.now() + SETTLE_S)
            assert not door.read() and bool(level.state) != active_high
        finally:
            hardware.close()


    def test_the_dc_alert_line_counts_a_latch_released_before_the_read(self, rig: Rig) -> None:
        """The DC-side ADS1115 latches ALERT/RDY (BCM 17) and an I2C write releases it before
        the input is read, as the Pi's reader thread may: the input still reads asserted once
        (the pin's edge: lgpio's edge events on a Pi, gpiozero's callback in the simulator),
        then released. No wiring beyond the board's: the chip pulls the line itself."""
        alert = rig.hardware.inputs["dc_alert"]
        wiring = rig.settings.i2c.adc
        bus = I2cBus(rig.hardware.io.open_smbus(), name="contract")
        link = wiring.channels.dc_link_v

        def write(register: int, word: int) -> None:
            bus.write_block(wiring.address, register, list(word.to_bytes(2, "big")))

        try:
            rig.settle()
            alert.read()  # whatever the start-up left
            assert not alert.read(), "the DC alert line is asserted at rest"
            # Every conversion "above": Hi_thresh one code above the lowest, window, latching.
            write(REG_LO_THRESH, LO_THRESH_NEVER)
            write(REG_HI_THRESH, LO_THRESH_NEVER + 1)
            write(REG_CONFIG, config_word(link.ain, link.fsr_v, wiring.data_rate_sps, False,
                                          continuous=True, comparator=GUARD_COMPARATOR))
            rig.settle(ALERT_SETTLE_S)  # two conversions: latched
            write(REG_CONFIG, config_word(link.ain, link.fsr_v, wiring.data_rate_sps, False))
            rig.settle(ALERT_SETTLE_S)  # comparator off: ALERT/RDY released
            assert alert.read(), "the released latch was not counted"
            assert not alert.read(), "the same assertion counted twice"
        finally:
            bus.close()


class TestMeter:
    def test_a_reading_is_finite_and_stamped_by_the_clock(self, rig: Rig) -> None:
        rig.settle()
        before = rig.hardware.clock.now()
        reading = rig.hardware.meter.read()
        assert before <= reading.t <= rig.hardware.clock.now()
        assert _finite(reading.voltage_rms_v, reading.frequency_hz, reading.grid_power_w,
                       reading.grid_current_rms_a, reading.pv_power_w)
        assert reading.voltage_rms_v >= 0.0 and reading.grid_current_rms_a >= 0.0
        rig.settle(0.05)
        assert rig.hardware.meter.read().t > reading.t

    def test_no_voltage_is_voltage_lost_at_zero_hertz(self, rig: Rig) -> None:
        world = rig.world()
        world.outage()
        rig.settle(0.5)
        reading = rig.hardware.meter.read()
        assert reading.voltage_lost and reading.frequency_hz == 0.0

    def test_a_meter_that_stops_answering_is_a_sensor_fault(self, rig: Rig) -> None:
        world = rig.world()
        world.smbus.inject(rig.settings.i2c.meter.address, "absent")
        with pytest.raises(SensorFault, match=f"0x{rig.settings.i2c.meter.address:02X}"):
            rig.hardware.meter.read()

    def test_a_closed_meter_refuses_to_read(self, rig: Rig) -> None:
        rig.hardware.meter.close()
        with pytest.raises(SensorFault, match="closed"):
            rig.hardware.meter.read()


class TestAdc:
    def test_channels_are_the_configured_ones_with_units(self, rig: Rig) -> None:
        channels = rig.hardware.adc.channels
        assert {"dc_link_v", "ev_inlet_v", "dc_current_a"} <= set(channels)
        for key, channel in channels.items():
            assert channel.name == key and channel.unit in ("V", "A"), key

    def test_polling_fills_every_channel_with_finite_samples_in_time_order(
            self, rig: Rig) -> None:
        adc = rig.hardware.adc
        last: dict[str, float] = {}
        for _ in range(3):
            for _ in range(2 * len(adc.channels)):  # one conversion per poll
                adc.poll()
                rig.settle(0.02)  # one control tick
            for key, channel in adc.channels.items():
                sample = channel.latest()
                assert sample is not None, key
                assert _finite(sample.value, sample.t), key
                assert sample.t <= rig.hardware.clock.now()
                assert sample.t >= last.get(key, -math.inf), key
                last[key] = sample.t

    def test_poll_never_waits(self, rig: Rig) -> None:
        rig.world()  # only virtual time can show that no time passed
        now = rig.hardware.clock.now()
        for _ in range(10):
            rig.hardware.adc.poll()
        assert rig.hardware.clock.now() == now

    def test_a_closed_adc_refuses_to_poll(self, rig: Rig) -> None:
        rig.hardware.adc.close()
        with pytest.raises(SensorFault, match="closed"):
            rig.hardware.adc.poll()


class TestCanLink:
    def test_a_sent_frame_arrives_intact_on_the_wire(self, rig: Rig) -> None:
        link = rig.hardware.can["ev"]
        peer = rig.can_peer("ev")
        try:
            link.send(TEST_ID, b"\x01\x02\x03")
            rig.settle(CAN_WAIT_S)
            frames = []
            while (message := peer.recv(timeout=0)) is not None:
                frames.append(message)
            mine = [m for m in frames if m.arbitration_id == TEST_ID]
            assert [bytes(m.data) for m in mine] == [b"\x01\x02\x03"]
        finally:
            peer.shutdown()

    def test_receive_returns_what_arrived_in_order_and_at_most_max_frames(
            self, rig: Rig) -> None:
        link = rig.hardware.can["ev"]
        peer = rig.can_peer("ev")
        try:
            link.receive(max_frames=10_000)  # empty whatever the far side said so far
            for i in range(5):
                peer.send(can.Message(arbitration_id=TEST_ID, data=bytes([i]),
                                      is_extended_id=False))
            rig.settle(CAN_WAIT_S)
            first = link.receive(max_frames=2)
            assert len(first) <= 2
            got = first + link.receive(max_frames=10_000)
            mine = [f for f in got if f.arbitration_id == TEST_ID]
            assert [f.data for f in mine] == [bytes([i]) for i in range(5)]
            assert all(not f.is_extended_id and not f.is_error_frame for f in mine)
        finally:
            peer.shutdown()

    def test_a_frame_that_is_not_classic_can_is_refused(self, rig: Rig) -> None:
        link = rig.hardware.can["ev"]
        with pytest.raises(ProtocolError):
            link.send(TEST_ID, bytes(9))
        with pytest.raises(ProtocolError):
            link.send(0x800, b"")

    def test_discard_queued_answers_and_a_closed_link_refuses_io(self, rig: Rig) -> None:
        link = rig.hardware.can["ev"]
        assert isinstance(link.discard_queued(), bool)
        link.close()
        link.close()  # idempotent
        assert link.discard_queued() is False
        with pytest.raises(HalIOError):
            link.send(TEST_ID, b"")
        with pytest.raises(HalIOError):
            link.receive()


class TestClock:
    def test_sleep_until_reaches_the_deadline_and_time_never_goes_back(self, rig: Rig) -> None:
        clock = rig.hardware.clock
        start = clock.now()
        deadline = start + 0.03
        clock.sleep_until(deadline)
        assert clock.now() >= deadline
        later = clock.now()
        clock.sleep_until(start)  # a deadline in the past returns at once
        assert clock.now() >= later

    def test_a_past_deadline_costs_no_time(self, rig: Rig) -> None:
        rig.world()
        clock = rig.hardware.clock
        now = clock.now()
        clock.sleep_until(now - 1.0)
        assert clock.now() == now

    def test_wall_time_is_an_epoch_time(self, rig: Rig) -> None:
        wall = rig.hardware.clock.wall_time()
        assert math.isfinite(wall) and wall > EPOCH_2020


class TestSerialPort:
    def port(self, rig: Rig) -> Any:
        if not rig.hardware.serial:
            pytest.skip("no console port configured (hal.serial.ports)")
        return next(iter(rig.hardware.serial.values()))

    def test_read_never_blocks_and_write_reports_what_it_took(self, rig: Rig) -> None:
        port = self.port(rig)
        assert isinstance(port.read(64), bytes)
        written = port.write(b"\r\n")
        assert 0 <= written <= 2

    def test_bytes_cross_the_wire_both_ways(self, rig: Rig) -> None:
        rig.world()
        pair = simulated(rig.hardware).ptys[CONSOLE_PORT]
        port = rig.hardware.serial[CONSOLE_PORT]
        os.write(pair.master_fd, b"status\r\n")
        assert port.read(64) == b"status\r\n"
        assert port.write(b"ok\r\n") == 4
        assert os.read(pair.master_fd, 64) == b"ok\r\n"
        assert port.read(64) == b""

    def test_a_closed_port_refuses_io(self, rig: Rig) -> None:
        port = self.port(rig)
        port.close()
        with pytest.raises(HalIOError):
            port.read(1)


class TestWatchdog:
    def test_constructed_low_and_each_toggle_is_one_edge(self, rig: Rig) -> None:
        world = rig.world()
        kick = rig.hardware.watchdog
        assert kick is not None
        pin = world.pin(rig.settings.gpio.watchdog.kick_pin)
        assert not pin.state
        levels = []
        for _ in range(4):
            kick.toggle()
            levels.append(bool(pin.state))
        assert levels == [True, False, True, False]

    def test_toggle_and_close_never_raise(self, rig: Rig) -> None:
        kick = rig.hardware.watchdog
        assert kick is not None
        kick.toggle()
        kick.close()
        kick.close()


class TestDigitalOutput:
    """The CHAdeMO sequence signals (issue 19), on the MCP23017 expander."""

    def test_constructed_inactive(self, rig: Rig) -> None:
        assert set(rig.hardware.outputs) == {"ev_d1", "ev_d2", "ev_lock"}
        for name, out in rig.hardware.outputs.items():
            assert out.active is False, name
        assert rig.world().expander_chip.outputs() == 0

    def test_set_drives_the_pin_and_de_energise_drops_all_but_the_lock(self, rig: Rig) -> None:
        rig.energising_allowed()
        outputs = rig.hardware.outputs
        for out in outputs.values():
            out.set(True)
            assert out.active
        rig.hardware.de_energise_all()
        assert not outputs["ev_d1"].active and not outputs["ev_d2"].active
        assert outputs["ev_lock"].active  # held: unlocking a live connector is the hazard
        outputs["ev_lock"].set(False)
        assert not outputs["ev_lock"].active


class TestGpioExpander:
    def test_poll_reads_and_release_returns_every_pin_to_an_input(self, rig: Rig) -> None:
        expander = rig.hardware.expander
        assert expander is not None
        expander.poll()
        assert "MCP23017" in expander.describe()
        assert rig.hardware.inputs["ev_permission"].read() is False  # no car: not permitted
        expander.release()
        chip = rig.world().expander_chip
        assert chip.regs[0] == chip.regs[1] == 0xFF  # IODIRA/B: the power-on state


def test_every_interface_has_a_contract_class() -> None:
    """The HAL interfaces the controller depends on, each with its class above."""
    interfaces = {p.stem for p in (Path(__file__).parent.parent / "hal/interfaces").glob("*.py")}
    covered = {"contactor", "digital_input", "meter", "adc", "can_link", "clock",
               "serial_port", "watchdog", "digital_output", "gpio_expander"}
    not_devices = {"__init__", "hardware", "temperature"}  # the bundle; NTCs ride on the ADC
    assert interfaces - not_devices == covered
