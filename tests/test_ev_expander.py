"""The MCP23017 GPIO expander carrying the CHAdeMO sequence signals (issue 19).

The production driver (``hal/drivers/mcp23017.py``) against the register-level model
(``hal/sim/chips/mcp23017_model.py``) on the simulated SMBus, then the whole charger: the pins
in the config, one read per tick, and a lost expander as a named fault (EXPANDER_LOST).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.config.loader import load_config
from controller.modes.states import State
from hal.drivers.mcp23017 import VERIFY_EVERY, Mcp23017
from hal.errors import HalIOError, HalSetupError
from hal.i2c import I2cBus
from hal.settings import ExpanderPinsWiring, ExpanderWiring
from hal.sim.chips.mcp23017_model import GPIOA, IODIRA, IPOLA, OLATA, Mcp23017Model
from hal.sim.i2c_bus import FAULT_ABSENT, SimSMBus
from harness import Charger

ADDRESS = 0x20
WIRING = ExpanderWiring()
PINS = ExpanderPinsWiring()
OUTPUT_MASK = 1 << PINS.ev_d1 | 1 << PINS.ev_d2 | 1 << PINS.ev_lock
INPUT_MASK = 1 << PINS.ev_permission | 1 << PINS.ev_locked


class _Rig:
    def __init__(self) -> None:
        self.levels = INPUT_MASK  # optocouplers off: the pins sit high (active low)
        self.model = Mcp23017Model(lambda: self.levels, driven=INPUT_MASK)
        self.smbus = SimSMBus(seed=1)
        self.smbus.add_device(ADDRESS, self.model)
        self.bus = I2cBus(self.smbus, name="sim-i2c")

    def chip(self) -> Mcp23017:
        return Mcp23017(self.bus, WIRING)


def test_power_on_every_pin_is_an_input_and_configuration_latches_low_first() -> None:
    rig = _Rig()
    assert rig.model.regs[IODIRA] == 0xFF and rig.model.outputs() == 0  # the datasheet's POR
    writes: list[bytes] = []
    original = rig.model.on_write
    rig.model.on_write = lambda data: (writes.append(bytes(data)), original(data))[1]  # type: ignore[method-assign]
    rig.chip()
    registers = [w[0] for w in writes if len(w) > 1]
    assert registers.index(OLATA) < registers.index(IODIRA), registers  # no glitch on
    iodir = rig.model.regs[IODIRA] | rig.model.regs[IODIRA + 1] << 8
    assert iodir == 0xFFFF & ~OUTPUT_MASK
    assert rig.model.regs[IPOLA + 1] << 8 == INPUT_MASK  # the active-low inputs inverted
    assert rig.model.outputs() == 0


def test_outputs_are_written_through_olat_only_when_they_change() -> None:
    rig = _Rig()
    chip = rig.chip()
    before = rig.smbus.transfers[ADDRESS]
    chip.drive(PINS.ev_d1, True)
    chip.drive(PINS.ev_d1, True)  # no change: no transfer
    chip.drive(PINS.ev_lock, True)
    assert rig.smbus.transfers[ADDRESS] - before == 2
    assert rig.model.outputs() == 1 << PINS.ev_d1 | 1 << PINS.ev_lock
    chip.drive(PINS.ev_d1, False)
    assert rig.model.outputs() == 1 << PINS.ev_lock


def test_inputs_are_one_two_byte_read_with_the_polarity_applied() -> None:
    rig = _Rig()
    chip = rig.chip()
    before = rig.smbus.transfers[ADDRESS]
    chip.poll()
    assert rig.smbus.transfers[ADDRESS] - before == 1
    assert not chip.level(PINS.ev_permission) and not chip.level(PINS.ev_locked)
    rig.levels = INPUT_MASK & ~(1 << PINS.ev_permission)  # switch k closes: its opto pulls low
    assert not chip.level(PINS.ev_permission)  # nothing read yet
    chip.poll()
    assert chip.level(PINS.ev_permission) and not chip.level(PINS.ev_locked)
    assert list(rig.smbus.read_i2c_block_data(ADDRESS, GPIOA, 2))[1] & 1  # the register view


def test_a_silent_chip_fails_safe_with_a_named_error() -> None:
    rig = _Rig()
    chip = rig.chip()
    rig.levels = 0  # both inputs active
    chip.poll()
    assert chip.level(PINS.ev_permission)
    rig.smbus.inject(ADDRESS, FAULT_ABSENT)
    with pytest.raises(HalIOError, match="0x20"):
        chip.poll()
    assert not chip.level(PINS.ev_permission) and not chip.level(PINS.ev_locked)
    chip.drive(PINS.ev_d2, True)  # a failed write is not raised here (the output stage) ...
    rig.smbus.clear(ADDRESS)
    with pytest.raises(HalIOError, match="output write failed"):
        chip.poll()  # ... but by the next poll: a fault within one tick
    assert not chip.driven(PINS.ev_d2)


def test_a_chip_that_reset_is_found_within_a_second_and_configured_again() -> None:
    rig = _Rig()
    chip = rig.chip()
    chip.drive(PINS.ev_d1, True)
    rig.model.power_cycle()  # a brown-out: every pin an input, IPOL and GPPU cleared
    assert rig.model.outputs() == 0  # d1 dropped in hardware (the relay drivers' pull-downs)
    with pytest.raises(HalIOError, match="the chip reset"):
        for _ in range(VERIFY_EVERY):
            chip.poll()
    assert not chip.driven(PINS.ev_d1)  # the driver knows its outputs are off
    iodir = rig.model.regs[IODIRA] | rig.model.regs[IODIRA + 1] << 8
    assert iodir == 0xFFFF & ~OUTPUT_MASK and rig.model.regs[IPOLA + 1] << 8 == INPUT_MASK
    chip.poll()  # configured again: the next poll is clean


def test_a_missing_expander_is_a_setup_error_naming_it() -> None:
    rig = _Rig()
    rig.smbus.inject(ADDRESS, FAULT_ABSENT)
    with pytest.raises(HalSetupError, match="MCP23017 at 0x20"):
        rig.chip()


@pytest.mark.parametrize(("toml", "expected"), [
    ("[hal.i2c.expander.pins]\nev_d2 = 0\n", "expander pin 0 is used twice"),
    ("[hal.i2c.expander.pins]\nev_locked = 15\n", "GPA7 and GPB7 are outputs only"),
])
def test_the_config_rules_check_the_expander_pins(toml: str, expected: str) -> None:
    with pytest.raises(Exception, match=expected):
        load_config('[hal]\nbackend = "sim"\n' + toml)


def test_the_charger_reads_the_expander_once_per_tick(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    c.run(0.5)
    before, ticks = c.world.smbus.transfers[ADDRESS], c.sup.ticks
    c.run(1.0)  # idle: nothing changes on the outputs
    polls = c.sup.ticks - ticks
    verifies = polls // VERIFY_EVERY + 1  # the IODIR read-back, once a second (at most)
    assert polls <= c.world.smbus.transfers[ADDRESS] - before <= polls + verifies


def test_a_lost_expander_while_charging_latches_expander_lost_and_opens(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    c.request("charge", 3000.0)
    c.run_until(lambda: c.state is State.ENERGISED_CHARGE, limit_s=15.0)
    c.run(1.0)
    c.world.smbus.inject(c.config.hal.i2c.expander.address, FAULT_ABSENT)
    t0 = c.now
    c.run_until(lambda: "EXPANDER_LOST" in c.sup.faults.codes, limit_s=1.0)
    assert c.now - t0 <= 2 * c.config.control.tick_s
    assert c.state is State.FAULT
    c.run(0.2)
    assert not any(k.closed for n, k in c.world.contactors.items() if n != "grid")
