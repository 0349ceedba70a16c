"""Microchip MCP23017 16-bit I2C GPIO expander: the CHAdeMO sequence signals (issue 19).

Register facts: the MCP23017/MCP23S17 datasheet (DS20001952C), table 3-5 with IOCON.BANK = 0
(the power-on map, which this driver keeps): IODIRA/B 0x00/0x01 (1 = input, power-on 0xFF),
IPOLA/B 0x02/0x03, IOCON 0x0A, GPPUA/B 0x0C/0x0D, GPIOA/B 0x12/0x13, OLATA/B 0x14/0x15. With
IOCON.SEQOP = 0 the address pointer advances after each byte and toggles between the A and B
registers of a pair, so GPIOA and GPIOB are read in one 2-byte transfer. GPA7 and GPB7 are
outputs only (that revision's note; the config rules refuse an input there).

Power-on state: every pin an input, so every output is off through the pull-downs on the relay
drivers until :class:`Mcp23017` configures the chip; it writes OLAT = 0 before any pin becomes an
output, so nothing glitches on. Afterwards:

- outputs change only by an OLAT write of the port that changed (:meth:`Mcp23017.drive`);
- the inputs are read once per control tick as one 2-byte GPIOA/GPIOB transfer
  (:meth:`Mcp23017.poll`, joined to the tick's I2C reads in ``hal/assembly.py``); a failed read
  leaves every input inactive (the vehicle's permission and the lock unconfirmed: fail-safe)
  and raises :class:`HalIOError`, which the snapshot turns into EXPANDER_LOST;
- a failed OLAT write is remembered and raised by the next :meth:`poll` (a named fault within
  one tick, never an exception in the output stage);
- every ``VERIFY_EVERY`` polls IODIR is read back too: a chip that reset (brown-out) has every
  pin an input again and its IPOL/GPPU cleared, so its inputs could read a floating "active".
  The driver then configures it again (latch low first) and raises :class:`HalIOError`.

On a Pi the poll runs in the I2C reader's thread (``hal/i2c_reader.py``) while the output stage
drives from the loop's thread: one lock keeps the latch, the levels and a re-configuration whole.
"""

from __future__ import annotations

import contextlib
import threading

from hal.errors import HalIOError, HalSetupError
from hal.i2c import I2cBus
from hal.settings import EXPANDER_INPUTS, EXPANDER_OUTPUTS, ExpanderWiring

CHIP = "MCP23017"
IODIRA, IPOLA, IOCON, GPPUA, GPIOA, OLATA = 0x00, 0x02, 0x0A, 0x0C, 0x12, 0x14
IOCON_VALUE = 0x00  # BANK = 0, MIRROR = 0, SEQOP = 0 (sequential), ODR = 0, INTPOL = 0
PORT_BITS = 8
ALL_INPUTS = 0xFFFF  # IODIR at power-on
VERIFY_EVERY = 50  # polls between IODIR read-backs (1 s at 20 ms ticks): a chip reset shows


def _pair(value: int) -> list[int]:
    """A 16-bit pin mask as the A and B register bytes (A first)."""
    return [value & 0xFF, (value >> PORT_BITS) & 0xFF]


class Mcp23017:
    """The expander at ``wiring.address``: its outputs and inputs by pin number (0..15)."""

    def __init__(self, bus: I2cBus, wiring: ExpanderWiring) -> None:
        self._bus = bus
        self.address = wiring.address
        self._where = f"{CHIP} at 0x{wiring.address:02X} on {bus.name}"
        pins = wiring.pins
        self.output_mask = sum(1 << getattr(pins, n) for n in EXPANDER_OUTPUTS)
        self.input_mask = sum(1 << getattr(pins, n) for n in EXPANDER_INPUTS)
        self._olat = 0
        self._levels = 0  # GPIO as last read (IPOL applied: 1 = active)
        self._write_error: str | None = None
        self.reads = 0  # GPIO transfers (one per tick)
        self.writes = 0  # OLAT writes (one per changed port)
        self._inverted = self.input_mask if wiring.inputs_active_low else 0
        self._iodir = ALL_INPUTS & ~self.output_mask
        self._polls = 0
        self._lock = threading.RLock()  # poll (reader thread) against drive (loop thread)
        try:
            back = self._configure()
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: no answer: {err}") from err
        if back != self._iodir:
            raise HalSetupError(f"{self._where}: IODIR reads back 0x{back:04X}, wrote "
                                f"0x{self._iodir:04X} (not an MCP23017, or IOCON.BANK = 1?)")

    def _configure(self) -> int:
        """Every output latched low, then the directions; returns IODIR as read back."""
        bus, address = self._bus, self.address
        bus.write_block(address, IOCON, [IOCON_VALUE])
        bus.write_block(address, OLATA, _pair(0))  # latch low before any pin is an output
        self._olat = 0
        bus.write_block(address, IPOLA, _pair(self._inverted))
        bus.write_block(address, GPPUA, _pair(self._inverted))  # pull-ups for the optos
        bus.write_block(address, IODIRA, _pair(self._iodir))
        back = bus.read_block(address, IODIRA, 2)
        return back[0] | back[1] << PORT_BITS

    # ----- the one read per tick -------------------------------------------------------------
    def poll(self) -> None:
        """Read GPIOA and GPIOB in one transfer (the expander's only read in a control tick).

        Raises :class:`HalIOError` (every input then reads inactive) when the read fails or an
        output write failed since the last poll."""
        with self._lock:
            pending, self._write_error = self._write_error, None
            try:
                data = self._bus.read_block(self.address, GPIOA, 2)
            except HalIOError:
                self._levels = 0
                raise
            self.reads += 1
            self._levels = data[0] | data[1] << PORT_BITS
            if pending is not None:
                raise HalIOError(pending)
            self._polls += 1
            if self._polls % VERIFY_EVERY == 0:
                self._verify()

    def _verify(self) -> None:
        """IODIR as configured, else the chip reset: configure it again (outputs off) and
        raise (the inputs read inactive until the next poll)."""
        back = self._bus.read_block(self.address, IODIRA, 2)
        iodir = back[0] | back[1] << PORT_BITS
        if iodir == self._iodir:
            return
        self._levels = 0
        self._configure()
        raise HalIOError(f"{self._where}: IODIR reads 0x{iodir:04X}, configured "
                         f"0x{self._iodir:04X}: the chip reset (supply, brown-out); configured "
                         "again with every output off")

    def level(self, pin: int) -> bool:
        """Input ``pin`` as the last :meth:`poll` read it (active = True)."""
        return bool(self._levels >> pin & 1)

    # ----- outputs -----------------------------------------------------------------------------
    def drive(self, pin: int, on: bool) -> None:
        """Set output ``pin``; writes the port's OLAT only when its byte changes. A failed write
        is raised by the next :meth:`poll` (the latch is then written again on the next change)."""
        with self._lock:
            wanted = self._olat | 1 << pin if on else self._olat & ~(1 << pin)
            if wanted == self._olat:
                return
            port = pin // PORT_BITS
            try:
                self._bus.write_block(self.address, OLATA + port,
                                      [wanted >> port * PORT_BITS & 0xFF])
            except HalIOError as err:
                self._write_error = f"{self._where}: output write failed: {err}"
                return
            self.writes += 1
            self._olat = wanted

    def driven(self, pin: int) -> bool:
        return bool(self._olat >> pin & 1)

    def release(self) -> None:
        """Every pin an input again (the power-on state: outputs off through the pull-downs)."""
        with self._lock, contextlib.suppress(HalIOError):
            self._bus.write_block(self.address, OLATA, _pair(0))
            self._bus.write_block(self.address, IODIRA, _pair(ALL_INPUTS))
        self._olat = 0

    def describe(self) -> str:
        return (f"{self._where}: outputs 0x{self.output_mask:04X}, inputs "
                f"0x{self.input_mask:04X}, latch 0x{self._olat:04X}, levels 0x{self._levels:04X}")


class ExpanderOutput:
    """One output pin of the expander (``hal/interfaces/digital_output.py``); ``hold_on_safe``
    outputs ignore ``de_energise`` (the connector lock)."""

    def __init__(self, name: str, chip: Mcp23017, pin: int, hold_on_safe: bool = False) -> None:
        self.name = name
        self._chip = chip
        self._pin = pin
        self._hold = hold_on_safe

    def set(self, active: bool) -> None:
        self._chip.drive(self._pin, active)

    @property
    def active(self) -> bool:
        return self._chip.driven(self._pin)

    def de_energise(self) -> None:
        if not self._hold:
            self._chip.drive(self._pin, False)

    def close(self) -> None:
        """The chip is released as a whole (:meth:`Mcp23017.release`)."""


class ExpanderInput:
    """One input pin of the expander (``hal/interfaces/digital_input.py``): the level of the
    tick's :meth:`Mcp23017.poll`."""

    def __init__(self, name: str, chip: Mcp23017, pin: int) -> None:
        self.name = name
        self._chip = chip
        self._pin = pin

    def read(self) -> bool:
        return self._chip.level(self._pin)

    def close(self) -> None:
        """The chip is released as a whole (:meth:`Mcp23017.release`)."""
