"""Register-level model of the TI ADS1115 16-bit ADC, as the chip sees the I2C bus.

Written from the datasheet facts in ``chips.md`` section 4.1, independently of the driver. The
first byte of every write sets the 2-bit pointer (0 Conversion, 1 Config, 2 Lo_thresh,
3 Hi_thresh); two more bytes (big-endian) write the pointed register. Reads return the pointed
register big-endian (a 1-byte read gets the MSB; longer reads repeat the word).

Writing Config with OS=1 in single-shot mode starts one conversion that completes at
``now() + 1 / (data_rate * (1 + rate_error))``; OS reads 0 until then. The result is taken when
the completion is first noticed (on the next access), from ``pin_volts(ain)`` for the MUX in
force at the start: single-ended codes (100-111) read AINx against GND, differential codes
(000-011) read the difference of the two pins. The volts get gain error and offset, are
quantised to the PGA's LSB (FSR/32768) with gaussian noise (``noise_lsb`` rms), and clipped to
the 16-bit range (the chip's full-scale codes 0x7FFF / 0x8000). The input protection diodes are
not modelled: a single-ended pin below GND simply reads negative.

Continuous mode (MODE=0) is modelled coarsely: a new result every conversion period, OS reads 0;
when several periods passed since the last access, one result (from the present pin volts)
stands for them. The world advances the chip every plant step (:meth:`advance`), so with a plant
step shorter than the conversion period each conversion is seen.

The comparator (datasheet 9.3.8, Config bits 4..0): every completed conversion is compared with
Lo_thresh and Hi_thresh (signed codes). COMP_QUE (1..0) asserts ALERT/RDY after 1, 2 or 4
successive conversions beyond a threshold; 11 disables the comparator and leaves the pin
high-impedance (the pull-up reads high). COMP_MODE (4) 0, traditional: asserts above Hi_thresh,
releases below Lo_thresh; 1, window: asserts above Hi_thresh or below Lo_thresh, releases inside.
COMP_LAT (2) 1: an asserted ALERT stays asserted until the master reads the Conversion register
(the SMBus alert response is not modelled); 0: it follows the comparison. COMP_POL (3) 0: active
low. The conversion-ready use of the pin (Hi_thresh MSB 1, Lo_thresh MSB 0) is not modelled.
:attr:`alert_pin_high` is the pin's level.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from hal.sim.i2c_bus import I2cDeviceModel

POINTER_CONVERSION = 0x00
POINTER_CONFIG = 0x01
POINTER_LO_THRESH = 0x02
POINTER_HI_THRESH = 0x03
POINTER_MASK = 0x03

CONFIG_RESET = 0x8583
LO_THRESH_RESET = 0x8000
HI_THRESH_RESET = 0x7FFF
OS_BIT = 1 << 15
MUX_SHIFT, MUX_MASK = 12, 0b111
PGA_SHIFT, PGA_MASK = 9, 0b111
MODE_SINGLE_SHOT = 1 << 8
DR_SHIFT, DR_MASK = 5, 0b111
COMP_MODE_WINDOW = 1 << 4
COMP_POL_ACTIVE_HIGH = 1 << 3
COMP_LAT = 1 << 2
COMP_QUE_MASK = 0b11
COMP_QUE_DISABLE = 0b11
ASSERT_AFTER_BY_QUE = (1, 2, 4)  # successive conversions beyond a threshold before ALERT

FSR_BY_PGA = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)
RATE_BY_DR = (8, 16, 32, 64, 128, 250, 475, 860)
# MUX code -> (positive input, negative input or None for GND)
INPUTS_BY_MUX: tuple[tuple[int, int | None], ...] = (
    (0, 1), (0, 3), (1, 3), (2, 3), (0, None), (1, None), (2, None), (3, None),
)
CODE_MIN, CODE_MAX = -32768, 32767


class Ads1115Model(I2cDeviceModel):
    """The chip at 0x48-0x4B."""

    def __init__(
        self,
        now: Callable[[], float],
        pin_volts: Callable[[int], float],
        rng: np.random.Generator,
        *,
        noise_lsb: float = 1.0,
        gain_error: float = 0.0,
        offset_v: float = 0.0,
        rate_error: float = 0.0,
    ) -> None:
        self.pin_volts = pin_volts
        self.now = now
        self._rng = rng
        self.noise_lsb = noise_lsb
        self.gain_error = gain_error
        self.offset_v = offset_v
        self.rate_error = rate_error
        self._pointer = POINTER_CONVERSION
        self._config = CONFIG_RESET & ~OS_BIT
        self._conversion = 0
        self._lo_thresh = LO_THRESH_RESET
        self._hi_thresh = HI_THRESH_RESET
        self._converting_config = 0
        self._done_at: float | None = None
        self.conversions = 0
        self._beyond = 0  # successive conversions beyond a threshold (COMP_QUE)
        self._alert = False  # the comparator asserts ALERT/RDY

    # -- I2cDeviceModel ----------------------------------------------------------------------

    def on_write(self, data: bytes) -> None:
        if not data:
            return
        self._pointer = data[0] & POINTER_MASK
        if len(data) < 3:
            return
        value = data[1] << 8 | data[2]
        self._complete_if_due()
        if self._pointer == POINTER_CONFIG:
            self._write_config(value)
        elif self._pointer == POINTER_LO_THRESH:
            self._lo_thresh = value
        elif self._pointer == POINTER_HI_THRESH:
            self._hi_thresh = value
        # the Conversion register is read-only

    def on_read(self, n: int) -> bytes:
        self._complete_if_due()
        if self._pointer == POINTER_CONVERSION:
            word = self._conversion
            if self._config & COMP_LAT:
                self._alert = False  # reading the result releases a latched ALERT
        elif self._pointer == POINTER_CONFIG:
            word = self._config | (0 if self.busy else OS_BIT)
        elif self._pointer == POINTER_LO_THRESH:
            word = self._lo_thresh
        else:
            word = self._hi_thresh
        raw = word.to_bytes(2, "big")
        return (raw * (n // 2 + 1))[:n]

    def advance(self) -> None:
        """Complete the conversions due by now (the world calls this every plant step, so the
        comparator and the ALERT pin follow time between the driver's accesses)."""
        self._complete_if_due()

    @property
    def alert_pin_high(self) -> bool:
        """The ALERT/RDY pin's level (open drain with a pull-up: high when not asserted, or
        asserted with COMP_POL = 1; high-impedance, so high, with the comparator disabled)."""
        if self._config & COMP_QUE_MASK == COMP_QUE_DISABLE:
            return True
        return self._alert == bool(self._config & COMP_POL_ACTIVE_HIGH)

    @property
    def alert_asserted(self) -> bool:
        """The comparator asserts ALERT (whatever its polarity)."""
        return self._alert and self._config & COMP_QUE_MASK != COMP_QUE_DISABLE

    # -- inspection --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A conversion is running (always, in continuous mode)."""
        return self._done_at is not None

    @property
    def config(self) -> int:
        """Config as it would read now."""
        self._complete_if_due()
        return self._config | (0 if self.busy else OS_BIT)

    # -- internals ---------------------------------------------------------------------------

    def _conversion_time(self, config: int) -> float:
        rate = RATE_BY_DR[config >> DR_SHIFT & DR_MASK]
        return 1.0 / (rate * (1.0 + self.rate_error))

    def _write_config(self, value: int) -> None:
        self._config = value & ~OS_BIT
        if value & COMP_QUE_MASK == COMP_QUE_DISABLE:
            self._alert = False
            self._beyond = 0
        continuous = not value & MODE_SINGLE_SHOT
        if continuous or (value & OS_BIT and not self.busy):
            self._converting_config = self._config
            self._done_at = self.now() + self._conversion_time(self._config)
        elif self.busy and not self._converting_config & MODE_SINGLE_SHOT:
            self._done_at = None  # continuous -> single-shot: powers down

    def _complete_if_due(self) -> None:
        if self._done_at is None or self.now() < self._done_at:
            return
        self._conversion = self._sample(self._converting_config)
        self.conversions += 1
        self._compare(self._conversion)
        if self._converting_config & MODE_SINGLE_SHOT:
            self._done_at = None
            return
        period = self._conversion_time(self._converting_config)
        missed = math.floor((self.now() - self._done_at) / period)  # periods since, >= 0
        self._done_at += (missed + 1) * period

    def _compare(self, word: int) -> None:
        """The comparator on one completed conversion (the Config in force now)."""
        config = self._config
        que = config & COMP_QUE_MASK
        if que == COMP_QUE_DISABLE:
            return
        code = _signed(word)
        high, low = code > _signed(self._hi_thresh), code < _signed(self._lo_thresh)
        beyond = high or (low and bool(config & COMP_MODE_WINDOW))
        if beyond:
            self._beyond += 1
            if self._beyond >= ASSERT_AFTER_BY_QUE[que]:
                self._alert = True
            return
        self._beyond = 0
        if config & COMP_LAT:
            return  # latched: only reading the Conversion register releases it
        if config & COMP_MODE_WINDOW or low:
            self._alert = False  # window: inside; traditional: below Lo_thresh (hysteresis)

    def _sample(self, config: int) -> int:
        positive, negative = INPUTS_BY_MUX[config >> MUX_SHIFT & MUX_MASK]
        volts = self.pin_volts(positive)
        if negative is not None:
            volts -= self.pin_volts(negative)
        volts = volts * (1.0 + self.gain_error) + self.offset_v
        lsb_v = FSR_BY_PGA[config >> PGA_SHIFT & PGA_MASK] / 32768
        code = volts / lsb_v
        if self.noise_lsb > 0.0:
            code += self.noise_lsb * self._rng.standard_normal()  # = normal(0, s)
        return min(max(round(code), CODE_MIN), CODE_MAX) & 0xFFFF


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word
