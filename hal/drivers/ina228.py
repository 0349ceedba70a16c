"""TI INA228 20-bit power monitor on I2C: the optional second DC channel.

Register facts: the TI INA228 datasheet's register map (ti.com/lit/ds/symlink/ina228.pdf),
cross-checked against the Linux hwmon ``ina238`` driver. Registers sit behind an 8-bit
pointer and are big-endian, 16, 24 or 40 bits wide; the 24-bit results carry 20 bits in
[23:4]. Scaling follows the datasheet equations: ``CURRENT_LSB = max_current / 2**19``,
``SHUNT_CAL = 13107.2e6 * CURRENT_LSB * R_shunt`` (x4 with ADCRANGE = 1), power
``3.2 * CURRENT_LSB``, energy ``16 * 3.2 * CURRENT_LSB`` J, charge ``CURRENT_LSB`` C.

Start-up: the IDs are checked (0x5449, die 0x228), CONFIG (range, accumulators cleared), ADC
continuous conversion, SHUNT_CAL and the hardware alert limits are written and each is read
back (these chips have no last-operation registers: read-back is the verification). The alert
limit LSBs are 16 x the 20-bit result LSBs (16-bit limit registers): SOVL/SUVL 5 uV (ADCRANGE 0)
or 1.25 uV (ADCRANGE 1), BOVL 3.125 mV; checked against the datasheet's worked example (TI
SLYS021A, fault thresholds: 10 A in 16.2 mOhm gives SOVL 0x7E90, 52 V gives BOVL 0x4100),
which ``tests/test_measurement_ina228.py`` reproduces. A limit outside the chip's range (BOVL
above the VBUS pin's 85 V, SOVL above the shunt range) is a :class:`HalSetupError`, never a
silently clipped limit (``hal.settings.ina228_limit_problems`` says so at config load
already).

The fast DC alert (issue 20 item 2): the chip converts shunt and bus continuously (MODE 0xB,
1052 us each: a 2.1 ms cycle; 16 averages for the readings) and, with SLOWALERT = 0, compares
every single conversion with its limit, so a DC over-voltage (BOVL) or over-current (SOVL,
SUVL) pulls ALERT low within about one cycle. ALERT is latched (ALATCH), active low (APOL 0),
open drain, wire-ORed with the ADS1115's ALERT/RDY onto BCM 17 and the hardware trip latch
(``hw/README.md``); reading DIAG_ALRT (every poll) releases it. :attr:`Ina228.alerts` names the
flags seen on the last poll, and the channels ``dc2_overvoltage_flag`` and
``dc2_overcurrent_flag`` (1.0 or 0.0) carry them to the controller: where the poll runs away
from the tick (the Pi's I2C reader) it may release the latch before the tick reads the pin; the
input still counts the assertion (``catch_pulses``, ``hal/gpio_devices.py``) and the flag it
read trips as well (``controller/protection/interlocks/dc_alert.py``).

:meth:`poll` (once per tick) reads voltage, current, power, energy, charge and DIAG_ALRT; every
``CAL_CHECK_POLLS`` polls it re-reads SHUNT_CAL, because a reset (a load transient on the
supply) silently restores its default and would make the current wrong: a mismatch is a
:class:`SensorFault` and the chip is configured again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from hal.errors import HalIOError, HalSetupError, SensorFault
from hal.i2c import I2cBus
from hal.interfaces.adc import AdcChannel, AdcDevice, Sample
from hal.settings import Ina228Wiring, ina228_limit_problems

CHIP = "INA228"

REG_CONFIG = 0x00
REG_ADC_CONFIG = 0x01
REG_SHUNT_CAL = 0x02
REG_VSHUNT = 0x04
REG_VBUS = 0x05
REG_DIETEMP = 0x06
REG_CURRENT = 0x07
REG_POWER = 0x08
REG_ENERGY = 0x09
REG_CHARGE = 0x0A
REG_DIAG_ALRT = 0x0B
REG_SOVL = 0x0C
REG_SUVL = 0x0D
REG_BOVL = 0x0E
REG_MANUFACTURER_ID = 0x3E
REG_DEVICE_ID = 0x3F

MANUFACTURER_TI = 0x5449
DIE_ID = 0x228
CONFIG_RSTACC = 1 << 14
CONFIG_ADCRANGE = 1 << 4
# MODE 0xB (continuous shunt and bus; the die temperature is not read), 1052 us each (code 5),
# 16 averages (code 2): each conversion compared with the limits every 2.1 ms.
ADC_CONFIG_VALUE = 0xB << 12 | 5 << 9 | 5 << 6 | 5 << 3 | 2
DIAG_ALATCH = 1 << 15
DIAG_CONTROL_MASK = 0xF000  # ALATCH, CNVR, SLOWALERT, APOL: all 0 but ALATCH
ALERT_BITS = {"shunt_over": 1 << 6, "shunt_under": 1 << 5, "bus_over": 1 << 4,
              "bus_under": 1 << 3, "power_over": 1 << 2, "math_overflow": 1 << 9}
DIAG_MEMSTAT = 1 << 0  # 1 = trim memory checksum good
SHUNT_CAL_MAX = 0x7FFF
SHUNT_CAL_FACTOR = 13107.2e6
CURRENT_LSB_DIVISOR = 1 << 19
POWER_FACTOR = 3.2
ENERGY_FACTOR = 16 * 3.2
VBUS_LSB_V = 195.3125e-6
SOVL_LSB_V = {163.84: 5e-6, 40.96: 1.25e-6}
BOVL_LSB_V = 3.125e-3
JOULES_PER_WH = 3600.0
COULOMBS_PER_AH = 3600.0
CAL_CHECK_POLLS = 25
WIDTH = {REG_VSHUNT: 3, REG_VBUS: 3, REG_CURRENT: 3, REG_POWER: 3, REG_ENERGY: 5,
         REG_CHARGE: 5}
UNITS = ("V", "A", "W", "Wh", "Ah", "", "")
OVERVOLTAGE_FLAG = "dc2_overvoltage_flag"
OVERCURRENT_FLAG = "dc2_overcurrent_flag"
CHANNELS = ("dc2_voltage_v", "dc2_current_a", "dc2_power_w", "dc2_energy_wh", "dc2_charge_ah",
            OVERVOLTAGE_FLAG, OVERCURRENT_FLAG)


def twenty_bit(raw: int, signed: bool) -> int:
    """The 20-bit result in bits [23:4] of a 24-bit register."""
    value = raw >> 4
    if signed and value & 1 << 19:
        value -= 1 << 20
    return value


class Ina228Channel(AdcChannel):
    def __init__(self, name: str, unit: str) -> None:
        self.name = name
        self.unit = unit
        self._latest: Sample | None = None

    def latest(self) -> Sample | None:
        return self._latest


class Ina228(AdcDevice):
    """Construction checks the IDs and configures the chip; :meth:`poll` once per tick."""

    def __init__(self, bus: I2cBus, wiring: Ina228Wiring, now: Callable[[], float]) -> None:
        self._bus = bus
        self._wiring = wiring
        self._address = wiring.address
        self._now = now
        self._where = f"{CHIP} on I2C {bus.name} address 0x{self._address:02X}"
        self.current_lsb_a = wiring.max_current_a / CURRENT_LSB_DIVISOR
        low_range = wiring.shunt_range_mv != max(SOVL_LSB_V)
        self.shunt_cal = round(SHUNT_CAL_FACTOR * self.current_lsb_a * wiring.shunt_ohm
                               * (4 if low_range else 1))
        if not 1 <= self.shunt_cal <= SHUNT_CAL_MAX:
            raise HalSetupError(
                f"{self._where}: SHUNT_CAL {self.shunt_cal} for {wiring.shunt_ohm} ohm and "
                f"{wiring.max_current_a} A does not fit 15 bits; change max_current_a")
        self._config = CONFIG_ADCRANGE if low_range else 0
        problems = ina228_limit_problems(wiring)
        if problems:
            raise HalSetupError(f"{self._where}: {'; '.join(problems)}")
        sovl, bovl = limit_codes(wiring)
        self._limits = {
            REG_SOVL: sovl,
            REG_SUVL: -sovl & 0xFFFF,
            REG_BOVL: bovl,
            REG_DIAG_ALRT: DIAG_ALATCH,
        }
        self._channels = {name: Ina228Channel(name, unit)
                          for name, unit in zip(CHANNELS, UNITS, strict=True)}
        self.alerts: frozenset[str] = frozenset()
        self._polls = 0
        self._closed = False
        try:
            manufacturer = self._read(REG_MANUFACTURER_ID, 2)
            device = self._read(REG_DEVICE_ID, 2)
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: no answer to the ID registers: {err}") from err
        if manufacturer != MANUFACTURER_TI or device >> 4 != DIE_ID:
            raise HalSetupError(f"{self._where}: IDs 0x{manufacturer:04X}/0x{device:04X} are not "
                                f"an {CHIP} (0x{MANUFACTURER_TI:04X}/0x{DIE_ID:03X}x)")
        try:
            self._configure()
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: start-up configuration failed: {err}") from err

    def _configure(self) -> None:
        self._write(REG_CONFIG, self._config | CONFIG_RSTACC)  # RSTACC reads back 0
        for register, value in ((REG_CONFIG, self._config), (REG_ADC_CONFIG, ADC_CONFIG_VALUE),
                                (REG_SHUNT_CAL, self.shunt_cal), *self._limits.items()):
            self._verified_write(register, value)

    def _read(self, register: int, width: int) -> int:
        return int.from_bytes(self._bus.read_block(self._address, register, width), "big")

    def _write(self, register: int, value: int) -> None:
        self._bus.write_block(self._address, register, list(value.to_bytes(2, "big")))

    def _verified_write(self, register: int, value: int) -> None:
        self._write(register, value)
        readback = self._read(register, 2)
        mask = 0xFFFF if register != REG_DIAG_ALRT else DIAG_CONTROL_MASK
        if readback & mask != value & mask:
            raise HalIOError(f"{self._where} register 0x{register:02X}: reads 0x{readback:04X} "
                             f"after writing 0x{value:04X}")

    @property
    def channels(self) -> Mapping[str, AdcChannel]:
        return MappingProxyType(dict(self._channels))

    def poll(self) -> None:
        if self._closed:
            raise SensorFault(f"{self._where}: driver is closed")
        try:
            self._poll()
        except SensorFault:
            raise
        except HalIOError as err:
            raise SensorFault(f"{self._where}: {err}") from err

    def _poll(self) -> None:
        self._polls += 1
        if self._polls % CAL_CHECK_POLLS == 0:
            cal = self._read(REG_SHUNT_CAL, 2)
            if cal != self.shunt_cal:
                self._configure()
                raise SensorFault(f"{self._where}: SHUNT_CAL reads 0x{cal:04X}, expected "
                                  f"0x{self.shunt_cal:04X} (the chip was reset); configured again")
        lsb, w, t = self.current_lsb_a, self._wiring, self._now()
        diag = self._read(REG_DIAG_ALRT, 2)
        if not diag & DIAG_MEMSTAT:
            raise SensorFault(f"{self._where}: DIAG_ALRT 0x{diag:04X}: trim memory checksum bad")
        values = {
            "dc2_voltage_v": twenty_bit(self._read(REG_VBUS, 3), False) * VBUS_LSB_V * w.bus_scale,
            "dc2_current_a": twenty_bit(self._read(REG_CURRENT, 3), True) * lsb,
            # the chip multiplies by the VBUS pin voltage: scale to the DC side
            "dc2_power_w": self._read(REG_POWER, 3) * POWER_FACTOR * lsb * w.bus_scale,
            "dc2_energy_wh": self._read(REG_ENERGY, 5) * ENERGY_FACTOR * lsb * w.bus_scale
            / JOULES_PER_WH,
            "dc2_charge_ah": _signed40(self._read(REG_CHARGE, 5)) * lsb / COULOMBS_PER_AH,
        }
        self.alerts = frozenset(name for name, bit in ALERT_BITS.items() if diag & bit)
        values[OVERVOLTAGE_FLAG] = float("bus_over" in self.alerts)
        values[OVERCURRENT_FLAG] = float(bool({"shunt_over", "shunt_under"} & self.alerts))
        for name, value in values.items():
            self._channels[name]._latest = Sample(value=value, t=t)

    def close(self) -> None:
        self._closed = True


def limit_codes(wiring: Ina228Wiring) -> tuple[int, int]:
    """The SOVL and BOVL register codes for the wiring's alert levels (in the chip's range when
    :func:`ina228_limit_problems` finds none)."""
    sovl = round(wiring.overcurrent_alert_a * wiring.shunt_ohm
                 / SOVL_LSB_V[wiring.shunt_range_mv])
    bovl = round(wiring.overvoltage_alert_v / wiring.bus_scale / BOVL_LSB_V)
    return sovl, bovl


def _signed40(raw: int) -> int:
    return raw - (1 << 40) if raw & 1 << 39 else raw
