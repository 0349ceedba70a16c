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
accesses. :meth:`power_cycle` restores the register defaults (SHUNT_CAL 0x1000).

The alert comparators follow the conversion timing of ADC_CONFIG (issue 20): in a continuous
MODE (0x9-0xF; bit 0 bus, bit 1 shunt, bit 2 temperature) the chip converts the enabled
channels in turn, bus, shunt, temperature, each for its conversion time (VBUSCT, VSHCT, VTCT:
50 ... 4120 us), the cycle restarting when ADC_CONFIG is written. With SLOWALERT = 0 every
conversion is compared with its limit (BOVL for the bus, SOVL/SUVL for the shunt); with
SLOWALERT = 1 only each average of AVG conversions (1 ... 1024). A conversion takes the pin
voltage present when the model notices it (:meth:`advance`, called by the world every plant
step, and every register access), with the gain error and without noise (its ~1 LSB is far
below any limit's margin). A flag set by a comparison stays while ALATCH is set, until
DIAG_ALRT is read; without ALATCH it follows each comparison. Triggered (single-shot) modes and
the temperature and power limits are not modelled. The ALERT pin (:attr:`alert_pin_high`) is
open drain: pulled low while an over- or under-limit flag is set (APOL = 0), high otherwise
(with APOL = 1 the other way round); its conversion-ready use (CNVR) is not modelled.
"""

from __future__ import annotations

import math
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
SLOWALERT, APOL = 1 << 13, 1 << 12
DIAG_WRITABLE = 0xF000
SHNTOL, SHNTUL, BUSOL = 1 << 6, 1 << 5, 1 << 4
LIMIT_FLAGS = SHNTOL | SHNTUL | BUSOL
CONVERSION_TIMES_S = (50e-6, 84e-6, 150e-6, 280e-6, 540e-6, 1052e-6, 2074e-6, 4120e-6)
AVERAGES = (1, 4, 16, 64, 128, 256, 512, 1024)
MODE_CONTINUOUS = 0x8
BUS_MODE, SHUNT_MODE, TEMP_MODE = 0x1, 0x2, 0x4
# ADC_CONFIG fields: MODE 15:12, VBUSCT 11:9, VSHCT 8:6, VTCT 5:3, AVG 2:0
MODE_SHIFT, VBUSCT_SHIFT, VSHCT_SHIFT, VTCT_SHIFT, FIELD_MASK = 12, 9, 6, 3, 0x7
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
        self._cycle_start = now()  # the conversion cycle restarts when ADC_CONFIG is written
        self._done = {BUS_MODE: 0, SHUNT_MODE: 0}  # conversions compared so far, per channel
        self._block = {BUS_MODE: (0, 0.0), SHUNT_MODE: (0, 0.0)}  # SLOWALERT: count, sum

    def power_cycle(self) -> None:
        self._regs = dict(DEFAULTS)
        self._energy = self._charge = 0.0
        self._restart_conversions()

    # -- the alert comparators and the ALERT pin ----------------------------------------------

    @property
    def alert_pin_high(self) -> bool:
        """The ALERT pin's level (open drain with a pull-up): low while a limit flag is set
        (APOL = 0, active low), high otherwise; the other way round with APOL = 1."""
        self.advance()
        asserted = bool(self._regs[DIAG_ALRT] & LIMIT_FLAGS)
        return asserted == bool(self._regs[DIAG_ALRT] & APOL)

    def conversion_schedule(self) -> tuple[float, dict[int, float]]:
        """The continuous cycle from ADC_CONFIG: its period and, per compared channel (bus,
        shunt) enabled, when its conversion ends within the cycle (s); (0, {}) when the chip
        is not converting continuously."""
        adc = self._regs[ADC_CONFIG]
        mode = adc >> MODE_SHIFT
        if not mode & MODE_CONTINUOUS or not mode & (BUS_MODE | SHUNT_MODE | TEMP_MODE):
            return 0.0, {}
        ends: dict[int, float] = {}
        t = 0.0
        for bit, shift in ((BUS_MODE, VBUSCT_SHIFT), (SHUNT_MODE, VSHCT_SHIFT),
                           (TEMP_MODE, VTCT_SHIFT)):
            if mode & bit:
                t += CONVERSION_TIMES_S[adc >> shift & FIELD_MASK]
                if bit != TEMP_MODE:
                    ends[bit] = t
        return t, ends

    def advance(self) -> None:
        """Compare the conversions completed by now with their limits (the world calls this
        every plant step, so the ALERT pin follows time between the driver's accesses)."""
        period, ends = self.conversion_schedule()
        if not ends:
            return
        elapsed = self.now() - self._cycle_start
        diag = self._regs[DIAG_ALRT]
        averages = AVERAGES[self._regs[ADC_CONFIG] & FIELD_MASK] if diag & SLOWALERT else 1
        for channel, end in ends.items():
            completed = math.floor((elapsed - end) / period + 1e-9) + 1 if elapsed >= end else 0
            new = completed - self._done[channel]
            if new <= 0:
                continue
            self._done[channel] = completed
            value = self._pin_volts(channel)
            count, total = self._block[channel]
            count, total = count + new, total + new * value
            if count < averages:
                self._block[channel] = (count, total)
                continue
            # One comparison stands for every completed one (one pin voltage for all of them).
            self._block[channel] = (count % averages, count % averages * value)
            self._compare(channel, total / count)

    def _pin_volts(self, channel: int) -> float:
        volts = self.bus_volts() if channel == BUS_MODE else self.shunt_volts()
        return volts * (1.0 + self.gain_error)

    def _compare(self, channel: int, volts: float) -> None:
        flags = 0
        if channel == BUS_MODE:
            if volts > self._regs[BOVL] * BOVL_LSB:
                flags = BUSOL
        else:
            lsb = SOVL_LSB[self._low_range()]
            raw_suvl = self._regs[SUVL]
            suvl = (raw_suvl - 0x10000 if raw_suvl & 0x8000 else raw_suvl) * lsb
            if volts > self._regs[SOVL] * lsb:
                flags = SHNTOL
            elif volts < suvl:
                flags = SHNTUL
        mine = BUSOL if channel == BUS_MODE else SHNTOL | SHNTUL
        diag = self._regs[DIAG_ALRT]
        if not diag & ALATCH:
            diag &= ~mine  # transparent: the flags follow each comparison
        self._regs[DIAG_ALRT] = diag | flags

    def _restart_conversions(self) -> None:
        self._cycle_start = self.now()
        self._done = {BUS_MODE: 0, SHUNT_MODE: 0}
        self._block = {BUS_MODE: (0, 0.0), SHUNT_MODE: (0, 0.0)}

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
        else:
            self.advance()  # the conversions so far are compared with the limits in force
        self._regs[self._pointer] = value
        if self._pointer == ADC_CONFIG:
            self._restart_conversions()

    def on_read(self, n: int) -> bytes:
        self._accumulate()
        register = self._pointer
        width = WIDTHS.get(register, 2)
        value = self._value(register)
        if register == DIAG_ALRT:
            self._regs[DIAG_ALRT] &= ~LIMIT_FLAGS  # latched flags clear on read
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
        self.advance()

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
