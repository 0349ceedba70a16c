"""Analog Devices ADE7953 single-phase energy meter on I2C: the meter at the PCC.

Channel A measures the utility feed at the PCC, channel B the PV feed-in branch; both share the
one voltage channel. Register map: :mod:`hal.drivers.ade7953_registers`.

Wire format: a 16-bit register address, MSB first, then 1-4 data bytes MSB first. Reads are a
combined transaction (address write, repeated start, read) through ``I2cBus.rdwr``.

Verification: every write is confirmed through LAST_OP / LAST_ADD / LAST_RWDATA; every 24-bit
quantity is read through its 32-bit alias, whose upper byte must be the sign extension; IRQSTATA
bits 22-31 must read 0; and one slot of the slow round robin re-reads LAST_ADD / LAST_RWDATA to
confirm the tick's last read arrived intact.

Per reading (once per control tick) the fast quantities (VRMS, PERIOD, the latched status and
AWATT, which the dispatcher follows) are read every time; the slow ones (currents, PV, reactive
power, the energy accumulators) one per reading in a round robin, so a reading costs 5 register
reads instead of 10. After any failure the next good reading reads everything, so no value older
than one round (``len(SLOW_SLOTS)`` readings) is ever reported.

Status: ZXTO (no zero crossing for ``ZXTOUT_S``) sets ``voltage_lost`` until a crossing (ZXV) is
seen again; SAG and OV are reported on the reading after they latched; RESET (the chip restarted,
e.g. a brown-out) makes the driver write its start-up configuration again.

A chip that stops answering is logged once (warning) and raises :class:`SensorFault` on every
reading; its return is logged once. Sign conventions: AWATT/AVAR positive = import; BWATT
positive = PV generation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields

from smbus2 import i2c_msg

from hal.drivers.ade7953_registers import (
    CAL_MAX,
    CAL_UNITY,
    CHIP,
    CONFIG_VALUE,
    ENERGY_COUNTS_PER_POWER_COUNT_S,
    GAIN_REGISTERS,
    IRQ_OV,
    IRQ_RESET,
    IRQ_SAG,
    IRQ_VALID_MASK,
    IRQ_ZXTO,
    IRQ_ZXV,
    LAST_OP_WRITE,
    LAST_RWDATA_BY_WIDTH,
    OPTIMUM_SETTING,
    PERIOD_CLOCK_HZ,
    PERIOD_DEAD,
    REG_AENERGYA_32,
    REG_AENERGYB_32,
    REG_AVAR_32,
    REG_AWATT_32,
    REG_BWATT_32,
    REG_CONFIG,
    REG_IRMSA_32,
    REG_IRMSB_32,
    REG_LAST_ADD,
    REG_LAST_OP,
    REG_LAST_RWDATA_32,
    REG_OPTIMUM,
    REG_OVLVL,
    REG_PERIOD,
    REG_RSTIRQSTATA_32,
    REG_SAGCYC,
    REG_SAGLVL,
    REG_UNLOCK,
    REG_VERSION,
    REG_VRMS_32,
    REG_ZXTOUT,
    SECONDS_PER_HOUR,
    U24_MAX,
    UNLOCK_KEY,
    ZXTOUT_COUNTS,
    register_width,
)
from hal.errors import HalIOError, HalSetupError, SensorFault
from hal.i2c import I2cBus
from hal.interfaces.meter import AcMeter, AcMeterReading
from hal.settings import MeterWiring

__all__ = ["CHIP", "Ade7953", "MeterGains", "register_width"]
log = logging.getLogger(__name__)

SLOW_SLOTS = ("irmsa", "irmsb", "bwatt", "avar", "aenergya", "aenergyb", "verify")


@dataclass(frozen=True, slots=True)
class MeterGains:
    """Chip gain registers as factors (1.0 = 0x400000); see ``GAIN_REGISTERS``."""

    voltage: float = 1.0
    grid_current: float = 1.0
    grid_power: float = 1.0
    grid_reactive: float = 1.0
    pv_current: float = 1.0
    pv_power: float = 1.0


class Ade7953(AcMeter):
    """The PCC meter. Construction probes and configures the chip; :meth:`read` once per tick.

    The :class:`I2cBus` belongs to whoever built it (it is shared with other chips), so
    :meth:`close` only retires this driver.
    """

    def __init__(self, bus: I2cBus, wiring: MeterWiring, now: Callable[[], float]) -> None:
        self._bus = bus
        self._wiring = wiring
        self._address = wiring.address
        self._now = now
        self._closed = False
        self._read_msgs: dict[int, tuple[i2c_msg, i2c_msg, int]] = {}
        self._where = f"{CHIP} on I2C {bus.name} address 0x{self._address:02X}"
        self._slow: dict[str, int] = {}
        self._slot = 0
        self._full_read = True
        self._voltage_lost = False
        self._failing = False
        self._last_read = (0, 0)
        self.energy_counts = {"import": 0, "export": 0, "pv": 0}
        self.gains = MeterGains()
        self.reconfigurations = 0
        try:
            self.version = self.read_register(REG_VERSION)
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: no answer to VERSION (0x702): {err}") from err
        try:
            self._configure()
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: start-up configuration failed: {err}") from err

    def _configure(self) -> None:
        # The unlock must come immediately before the 0x120 write, so it is not verified
        # itself; reading 0x120 back proves both.
        self.write_register(REG_UNLOCK, UNLOCK_KEY)
        self.verified_write(REG_OPTIMUM, OPTIMUM_SETTING)
        readback = self.read_register(REG_OPTIMUM)
        if readback != OPTIMUM_SETTING:
            raise HalIOError(
                f"{self._where} register 0x{REG_OPTIMUM:03X}: reads 0x{readback:04X} after "
                f"writing 0x{OPTIMUM_SETTING:04X} (unlock not accepted)"
            )
        w = self._wiring
        self.verified_write(REG_CONFIG, CONFIG_VALUE)
        self.verified_write(REG_ZXTOUT, ZXTOUT_COUNTS)
        self.verified_write(REG_SAGCYC, w.sag_half_cycles)
        self.verified_write(REG_SAGLVL, _u24(w.sag_level_v * w.voltage_counts_per_v))
        self.verified_write(REG_OVLVL, _u24(w.overvoltage_peak_v * w.voltage_counts_per_v))
        self._write_gains(self.gains)
        self.read_register(REG_RSTIRQSTATA_32)  # clear RESET and anything latched so far
        self._full_read = True

    # -- register access ---------------------------------------------------------------------

    def read_register(self, register: int) -> int:
        """Read ``register`` as an unsigned integer of its width (HalIOError after retries)."""
        cached = self._read_msgs.get(register)
        if cached is None:
            # Built once per register and reused: the address bytes never change and the read
            # buffer is overwritten by each transfer (the driver is used by one thread).
            width = register_width(register)
            cached = self._read_msgs[register] = (
                i2c_msg.write(self._address, [register >> 8, register & 0xFF]),
                i2c_msg.read(self._address, width), width)
        pointer, reply, width = cached
        self._bus.rdwr(self._address, register, pointer, reply)
        value = int.from_bytes(reply.buf[:width], "big")  # a slice: 6x cheaper than bytes()
        self._last_read = (register, value)
        return value

    def write_register(self, register: int, value: int) -> None:
        """Write ``value`` (unsigned, fitting the register width) to ``register``."""
        width = register_width(register)
        if not 0 <= value < 1 << (8 * width):
            raise ValueError(f"0x{value:X} does not fit the {8 * width}-bit register")
        payload = [register >> 8, register & 0xFF, *value.to_bytes(width, "big")]
        self._bus.rdwr(self._address, register, i2c_msg.write(self._address, payload))

    def verified_write(self, register: int, value: int) -> None:
        """Write, then check LAST_OP / LAST_ADD / LAST_RWDATA confirm exactly that write."""
        self.write_register(register, value)
        width = register_width(register)
        last_op = self.read_register(REG_LAST_OP)
        last_add = self.read_register(REG_LAST_ADD)
        last_data = self.read_register(LAST_RWDATA_BY_WIDTH[width])
        if last_op != LAST_OP_WRITE or last_add != register or last_data != value:
            raise HalIOError(
                f"{self._where} register 0x{register:03X}: write of 0x{value:X} not confirmed "
                f"(LAST_OP 0x{last_op:02X}, LAST_ADD 0x{last_add:03X}, "
                f"LAST_RWDATA 0x{last_data:X})"
            )

    def write_gains(self, gains: MeterGains) -> None:
        """Write the chip's gain registers (verified); they apply inside the chip at once."""
        try:
            self._write_gains(gains)
        except HalIOError as err:
            raise SensorFault(f"{self._where}: gain write failed: {err}") from err

    def _write_gains(self, gains: MeterGains) -> None:
        for f in fields(gains):
            factor = float(getattr(gains, f.name))
            code = round(factor * CAL_UNITY)
            if not 0 < code <= CAL_MAX:
                raise ValueError(f"gain {f.name}={factor} is outside the register's range")
            self.verified_write(GAIN_REGISTERS[f.name], code)
        self.gains = gains

    def _read_24_in_32(self, register: int, signed: bool) -> int:
        """Read a 32-bit alias and check its upper byte is the extension of the 24-bit data."""
        raw = self.read_register(register)
        upper, data = raw >> 24, raw & U24_MAX
        negative = bool(data & 0x800000)
        extension_ok = upper == (0xFF if negative else 0x00) or (not signed and upper == 0x00)
        if not extension_ok:
            raise SensorFault(
                f"{self._where} register 0x{register:03X}: implausible 0x{raw:08X} "
                "(upper byte is not the sign extension)"
            )
        if signed and negative:
            return data - (1 << 24)
        return data

    # -- AcMeter -----------------------------------------------------------------------------

    def read(self) -> AcMeterReading:
        if self._closed:
            raise SensorFault(f"{self._where}: driver is closed")
        try:
            reading = self._read()
        except HalIOError as err:
            self._full_read = True
            if not self._failing:
                self._failing = True
                log.warning("%s stopped answering: %s", self._where, err)
            if isinstance(err, SensorFault):
                raise
            raise SensorFault(f"{self._where}: {err}") from err
        if self._failing:
            self._failing = False
            log.warning("%s answers again", self._where)
        return reading

    def _read(self) -> AcMeterReading:
        status = self.read_register(REG_RSTIRQSTATA_32)
        if status & ~IRQ_VALID_MASK:
            raise SensorFault(f"{self._where}: IRQSTATA reads 0x{status:08X} (bits 22-31 set)")
        if status & IRQ_RESET:
            log.warning("%s restarted (IRQSTATA RESET): configuring it again", self._where)
            self.reconfigurations += 1
            self._configure()
            status = self.read_register(REG_RSTIRQSTATA_32) | (status & ~IRQ_RESET)
        vrms = self._read_24_in_32(REG_VRMS_32, signed=False)
        period = self.read_register(REG_PERIOD)
        awatt = self._read_24_in_32(REG_AWATT_32, signed=True)
        for slot in (SLOW_SLOTS if self._full_read else (SLOW_SLOTS[self._slot],)):
            self._read_slow(slot)
        self._slot = (self._slot + 1) % len(SLOW_SLOTS)
        self._full_read = False
        if status & IRQ_ZXTO:
            self._voltage_lost = True
        elif status & IRQ_ZXV:
            self._voltage_lost = False
        return self._scale(vrms, period, awatt, status)

    def _read_slow(self, slot: str) -> None:
        if slot == "verify":
            register, value = self._last_read
            last_add = self.read_register(REG_LAST_ADD)
            last_data = self.read_register(REG_LAST_RWDATA_32)
            if last_add != register or last_data != value:
                raise SensorFault(
                    f"{self._where}: read of 0x{register:03X} not confirmed (LAST_ADD "
                    f"0x{last_add:03X}, LAST_RWDATA 0x{last_data:08X}, received 0x{value:08X})")
            return
        register, signed = _SLOW_REGISTERS[slot]
        value = self._read_24_in_32(register, signed)
        if slot == "aenergya":
            key = "import" if value >= 0 else "export"
            self.energy_counts[key] += abs(value)
        elif slot == "aenergyb":
            self.energy_counts["pv"] += value
        else:
            self._slow[slot] = value

    def _scale(self, vrms: int, period: int, awatt: int, status: int) -> AcMeterReading:
        """The one place counts become engineering units."""
        w = self._wiring
        lost = self._voltage_lost or period == PERIOD_DEAD
        wh_per_count = 1.0 / (w.power_counts_per_w * ENERGY_COUNTS_PER_POWER_COUNT_S
                              * SECONDS_PER_HOUR)
        return AcMeterReading(
            t=self._now(),
            voltage_rms_v=vrms / w.voltage_counts_per_v,
            frequency_hz=0.0 if lost else PERIOD_CLOCK_HZ / (period + 1),
            grid_current_rms_a=self._slow["irmsa"] / w.current_counts_per_a,
            grid_power_w=awatt / w.power_counts_per_w,
            grid_reactive_var=self._slow["avar"] / w.power_counts_per_w,
            pv_current_rms_a=self._slow["irmsb"] / w.current_counts_per_a,
            pv_power_w=self._slow["bwatt"] / w.power_counts_per_w,
            voltage_lost=lost,
            sag=bool(status & IRQ_SAG),
            over_voltage=bool(status & IRQ_OV),
            grid_import_wh=self.energy_counts["import"] * wh_per_count,
            grid_export_wh=self.energy_counts["export"] * wh_per_count,
            pv_energy_wh=self.energy_counts["pv"] * wh_per_count,
        )

    def close(self) -> None:
        self._closed = True


_SLOW_REGISTERS = {
    "irmsa": (REG_IRMSA_32, False),
    "irmsb": (REG_IRMSB_32, False),
    "bwatt": (REG_BWATT_32, True),
    "avar": (REG_AVAR_32, True),
    "aenergya": (REG_AENERGYA_32, True),
    "aenergyb": (REG_AENERGYB_32, True),
}


def _u24(value: float) -> int:
    return min(max(round(value), 0), U24_MAX)
