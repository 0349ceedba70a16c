"""Register-level model of the Microchip MCP23017 GPIO expander, as the chip sees the I2C bus.

Written from the datasheet (DS20001952C, IOCON.BANK = 0 map), independently of the driver.
The first byte of a write sets the register pointer; each further byte writes the pointed
register and advances the pointer (IOCON.SEQOP = 0; with SEQOP = 1 it stays). Reads return the
pointed register and advance the same way; the pointer wraps from 0x15 to 0x00.

- Power-on: IODIR = 0xFF (every pin an input), everything else 0 (:meth:`power_cycle`).
- A write to GPIO writes OLAT (as the chip does); INTF and INTCAP are read-only.
- GPIO reads: an input pin gives its level (``levels()``: 1 = high; a pin nobody drives reads
  high with its GPPU pull-up, low without) XOR its IPOL bit; an output pin gives its latch.
- :meth:`outputs` is what the pins drive: OLAT where IODIR is 0; an input pin drives nothing
  (the relay drivers' pull-downs hold it off).
- Only BANK = 0 is modelled: a write setting IOCON.BANK is refused (an AssertionError in the
  test that did it), since the register map would move.
"""

from __future__ import annotations

from collections.abc import Callable

from hal.sim.i2c_bus import I2cDeviceModel

IODIRA, IODIRB, IPOLA, IPOLB = 0x00, 0x01, 0x02, 0x03
IOCONA, IOCONB, GPPUA, GPPUB = 0x0A, 0x0B, 0x0C, 0x0D
INTFA, INTFB, INTCAPA, INTCAPB = 0x0E, 0x0F, 0x10, 0x11
GPIOA, GPIOB, OLATA, OLATB = 0x12, 0x13, 0x14, 0x15
REGISTERS = 0x16
READ_ONLY = frozenset({INTFA, INTFB, INTCAPA, INTCAPB})
IOCON_BANK, IOCON_SEQOP, IOCON_UNIMPLEMENTED = 0x80, 0x20, 0x01


class Mcp23017Model(I2cDeviceModel):
    """The chip at 0x20-0x27. ``levels()``: the 16 pin levels outside drives (bit n = pin n,
    GPA0..GPB7), for the input pins; ``driven`` says which pins something outside drives."""

    def __init__(self, levels: Callable[[], int], driven: int = 0) -> None:
        self.levels = levels
        self.driven = driven  # pins with an outside driver (the others float)
        self.regs = bytearray(REGISTERS)
        self._pointer = 0
        self.power_cycle()

    def power_cycle(self) -> None:
        self.regs[:] = bytes(REGISTERS)
        self.regs[IODIRA] = self.regs[IODIRB] = 0xFF
        self._pointer = 0

    def _word(self, a: int) -> int:
        return self.regs[a] | self.regs[a + 1] << 8

    def outputs(self) -> int:
        """The pins the chip drives high (OLAT on output pins)."""
        return self._word(OLATA) & ~self._word(IODIRA) & 0xFFFF

    def _gpio(self) -> int:
        iodir, olat = self._word(IODIRA), self._word(OLATA)
        floating = self._word(GPPUA) & ~self.driven  # undriven: high through the pull-up
        outside = (self.levels() & self.driven) | floating
        pins = (outside & iodir) | (olat & ~iodir)
        return (pins ^ (self._word(IPOLA) & iodir)) & 0xFFFF

    def _advance(self) -> None:
        if not self.regs[IOCONA] & IOCON_SEQOP:
            self._pointer = (self._pointer + 1) % REGISTERS

    def on_write(self, data: bytes) -> None:
        if not data:
            return
        self._pointer = data[0] % REGISTERS
        for byte in data[1:]:
            self._store(self._pointer, byte)
            self._advance()

    def _store(self, register: int, byte: int) -> None:
        if register in READ_ONLY:
            return
        if register in (GPIOA, GPIOB):
            register += OLATA - GPIOA  # a GPIO write writes the latch
        if register in (IOCONA, IOCONB):  # one register at two addresses
            assert not byte & IOCON_BANK, "IOCON.BANK = 1 is not modelled"
            self.regs[IOCONA] = self.regs[IOCONB] = byte & ~IOCON_UNIMPLEMENTED
            return
        self.regs[register] = byte

    def on_read(self, n: int) -> bytes:
        out = bytearray()
        gpio = self._gpio()
        for _ in range(n):
            p = self._pointer
            if p in (GPIOA, GPIOB):
                out.append(gpio >> (8 * (p - GPIOA)) & 0xFF)
            else:
                out.append(self.regs[p])
            self._advance()
        return bytes(out)
