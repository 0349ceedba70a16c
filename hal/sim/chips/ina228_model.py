"""Register-level model of the TI INA228 power monitor, as the chip sees the I2C bus.

Written from ``chips.md`` section 4.4, independently of the driver. The first byte of a write
sets the 8-bit pointer; two more bytes write a 16-bit register (result registers are read-only).
Reads return the pointed register big-endian with its width (16, 24 or 40 bits; shorter reads
truncate, longer ones pad with 0x00).

The chip converts the pin voltages it is given (``shunt_volts()``, ``bus_volts()`` at the VBUS
pin) with gain error and gaussian noise, quantised to the ADC LSB (VSHUNT 312.5 nV or 78.125 nV
with ADCRANGE; VBUS 195.3125 uV) and placed in bits [23:4]. CURRENT is computed the way the
chip does it, from VSHUNT and SHUNT_CAL (so a wrong SHUNT_CAL gives a wrong current, as on the
silicon); POWER = |current x VBUS|; ENERGY and CHARGE integrate over ``now()`` between
accesses. Alert flags compare with SOVL/SUVL/BOVL and latch while ALATCH is set, until
DIAG_ALRT is read. :meth:`power_cycle` restores the register defaults (SHUNT_CAL 0x1000).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hal.sim.i2c_bus import I2cDeviceModel

CONFIG, ADC_CONFIG, SHUNT_CAL = 0x00, 0x01, 0x02
VSHUNT, VBUS, DIETEMP, CURRENT, POWER, ENERGY, CHARGE = 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A
DIAG_ALRT, SOVL, SUVL, BOVL = 0x0B, 0x0C, 0x0D, 0x0E
MANUFACTURER_ID, DEVICE_ID = 0x3E, 0x3F
DEFAULTS = {CONFIG: 0x0000, ADC_CONFIG: 0xFB68, SHUNT_CAL: 0x1000, DIAG_ALRT: 0x0001,
            SOVL: 0x7FFF, SUVL: 0x8000, BOVL: 0x7FFF, MANUFACTURER_ID: 0x5449,
            DEVICE_ID: 0x2281}
WIDTHS = {VSHUNT: 3, VBUS: 3, CURRENT: 3, POWER: 3, ENERGY: 5, CHARGE: 5}
READ_ONLY = frozenset({VSHUNT, VBUS, DIETEMP, CURRENT, POWER, ENERGY, CHARGE, MANUFACTURER_ID,
                       DEVICE_ID})
RSTACC, ADCRANGE, ALATCH = 1 << 14, 1 << 4, 1 << 15
DIAG_WRITABLE = 0xF000
SHNTOL, SHNTUL, BUSOL = 1 << 6, 1 << 5, 1 << 4
VSHUNT_LSB = {False: 312.5e-9, True: 78.125e-9}  # by ADCRANGE
SOVL_LSB = {False: 5e-6, True: 1.25e-6}
VBUS_LSB, BOVL_LSB = 195.3125e-6, 3.125e-3
CURRENT_FROM_SHUNT = 4096.0  # CURRENT = VSHUNT counts x 4096 / SHUNT_CAL (ADCRANGE 0)
POWER_FACTOR, ENERGY_FACTOR = 3.2, 16 * 3.2
DIETEMP_C = 35.0


def _field20(value: float, signed: bool) -> int:
    counts = round(value)
    low, high = (-(1 << 19), (1 << 19) - 1) if signed else (0, (1 << 20) - 1)
    return (min(max(counts, low), high) & 0xFFFFF) << 4


class Ina228Model(I2cDeviceModel):
    """The chip at 0x40-0x4F."""

    def __init__(self, now: Callable[[], float], shunt_volts: Callable[[], float],
                 bus_volts: Callable[[], float], rng: np.random.Generator, *,
                 noise_lsb: float = 1.0, gain_error: float = 0.0) -> None:
        self.now = now
        self.shunt_volts = shunt_volts
        self.bus_volts = bus_volts
        self._rng = rng
        self.noise_lsb = noise_lsb
        self.gain_error = gain_error
        self._regs = dict(DEFAULTS)
        self._pointer = 0
        self._energy = 0.0  # in ENERGY counts
        self._charge = 0.0  # in CHARGE counts
        self._t: float | None = None

    def power_cycle(self) -> None:
        self._regs = dict(DEFAULTS)
        self._energy = self._charge = 0.0

    def register(self, pointer: int) -> int:
        """A configuration or limit register as last written (0 if never written, no default);
        for tests (a read over the bus would change latched flags)."""
        return self._regs.get(pointer, 0)

    def on_write(self, data: bytes) -> None:
        if not data:
            return
        self._pointer = data[0]
        if len(data) < 3 or self._pointer in READ_ONLY:
            return
        value = data[1] << 8 | data[2]
        if self._pointer == CONFIG and value & RSTACC:
            self._energy = self._charge = 0.0
            value &= ~RSTACC
        if self._pointer == DIAG_ALRT:  # only the control bits 15-12 are writable
            value = value & DIAG_WRITABLE | self._regs[DIAG_ALRT] & ~DIAG_WRITABLE
        self._regs[self._pointer] = value

    def on_read(self, n: int) -> bytes:
        self._accumulate()
        register = self._pointer
        width = WIDTHS.get(register, 2)
        value = self._value(register)
        if register == DIAG_ALRT:
            self._regs[DIAG_ALRT] &= ~(SHNTOL | SHNTUL | BUSOL)  # latched flags clear on read
        return (value.to_bytes(width, "big") + bytes(max(0, n - width)))[:n]

    # -- internals ---------------------------------------------------------------------------

    def _low_range(self) -> bool:
        return bool(self._regs[CONFIG] & ADCRANGE)

    def _noisy(self, volts: float, lsb: float) -> float:
        counts = volts * (1.0 + self.gain_error) / lsb
        if self.noise_lsb > 0.0:
            counts += self.noise_lsb * self._rng.standard_normal()  # = normal(0, s)
        return counts

    def _shunt_counts(self) -> float:
        return self._noisy(self.shunt_volts(), VSHUNT_LSB[self._low_range()])

    def _current_counts(self, shunt_counts: float) -> float:
        cal = self._regs[SHUNT_CAL] & 0x7FFF
        return shunt_counts * CURRENT_FROM_SHUNT / cal if cal else 0.0

    def _power_counts(self, current_counts: float, bus_counts: float) -> float:
        # current[A] x bus[V] / (3.2 x CURRENT_LSB)  ==  counts x counts x VBUS_LSB / 3.2
        return abs(current_counts * bus_counts) * VBUS_LSB / POWER_FACTOR

    def _accumulate(self) -> None:
        now = self.now()
        if self._t is not None and now > self._t:
            dt = now - self._t
            current = self._current_counts(self.shunt_volts() / VSHUNT_LSB[self._low_range()])
            bus = self.bus_volts() / VBUS_LSB
            self._energy += self._power_counts(current, bus) * POWER_FACTOR / ENERGY_FACTOR * dt
            self._charge += current * dt
        self._t = now
        self._check_alerts()

    def _check_alerts(self) -> None:
        shunt = self.shunt_volts()
        lsb = SOVL_LSB[self._low_range()]
        sovl = self._regs[SOVL] * lsb
        raw_suvl = self._regs[SUVL]
        suvl = (raw_suvl - 0x10000 if raw_suvl & 0x8000 else raw_suvl) * lsb
        flags = 0
        if shunt > sovl:
            flags |= SHNTOL
        if shunt < suvl:
            flags |= SHNTUL
        if self.bus_volts() > self._regs[BOVL] * BOVL_LSB:
            flags |= BUSOL
        diag = self._regs[DIAG_ALRT]
        if not diag & ALATCH:
            diag &= ~(SHNTOL | SHNTUL | BUSOL)  # transparent: the flags follow the condition
        self._regs[DIAG_ALRT] = diag | flags

    def _value(self, register: int) -> int:
        if register == VSHUNT:
            return _field20(self._shunt_counts(), signed=True)
        if register == VBUS:
            return _field20(self._noisy(self.bus_volts(), VBUS_LSB), signed=False)
        if register == CURRENT:
            return _field20(self._current_counts(self._shunt_counts()), signed=True)
        if register == POWER:
            bus = self._noisy(self.bus_volts(), VBUS_LSB)
            power = self._power_counts(self._current_counts(self._shunt_counts()), bus)
            return min(round(power), 0xFFFFFF)
        if register == ENERGY:
            return min(round(self._energy), (1 << 40) - 1)
        if register == CHARGE:
            return round(self._charge) & ((1 << 40) - 1)
        if register == DIETEMP:
            return round(DIETEMP_C / 7.8125e-3) & 0xFFFF
        return self._regs.get(register, 0)
