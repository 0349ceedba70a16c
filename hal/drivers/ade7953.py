"""Analog Devices ADE7953 single-phase energy meter on I2C: the meter at the PCC.

Channel A measures the utility feed at the PCC, channel B the PV feed-in branch; both share the
one voltage channel. Register facts: ``/work/shared/reference/chips.md`` section 4.5 (datasheet
Rev. B, tables 13-25).

Wire format: a 16-bit register address, MSB first, then 1-4 data bytes MSB first; the width is
implied by the address range (see :func:`register_width`). Reads are a combined transaction
(address write, repeated start, read), so they go through ``I2cBus.rdwr`` with ``smbus2.i2c_msg``.

Sign conventions (fixed by how the CTs are installed; the board must match):

* ``AWATT``/``AVAR`` (channel A, grid): positive counts = **import** from the grid.
* ``BWATT`` (channel B, PV branch): positive counts = **generation** (PV feeding the house).

The 32-bit aliases are read because the datasheet sign-extends the 24-bit data into the upper
byte; that byte doubles as an integrity check (it must equal the sign extension of bit 23).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smbus2 import i2c_msg

from hal.errors import HalIOError, HalSetupError, SensorFault
from hal.i2c import I2cBus
from hal.interfaces.meter import AcMeter, AcMeterReading
from hal.settings import MeterWiring

CHIP = "ADE7953"

# --- Registers: 8-bit (0x000-0x0FF) -----------------------------------------------------------
REG_LAST_OP = 0x0FD  # type of the last successful transaction
REG_UNLOCK = 0x0FE  # write UNLOCK_KEY here immediately before writing REG_OPTIMUM
REG_LAST_RWDATA_8 = 0x0FF
# --- 16-bit (0x100-0x1FF) ---------------------------------------------------------------------
REG_ZXTOUT = 0x100  # zero-crossing timeout, counts of ZXTOUT_HZ
REG_CONFIG = 0x102
REG_PERIOD = 0x10E  # line period, unsigned; f = PERIOD_CLOCK_HZ / (PERIOD + 1)
REG_OPTIMUM = 0x120  # reserved register that must hold OPTIMUM_SETTING (datasheet table 1)
REG_LAST_ADD = 0x1FE  # address of the last successful transaction
REG_LAST_RWDATA_16 = 0x1FF
# --- 24-bit (0x200-0x2FF) and their 32-bit, sign-extended aliases (0x300-0x3FF) -------------
REG_LAST_RWDATA_24 = 0x2FF
REG_AWATT_32 = 0x312  # channel A active power, signed
REG_BWATT_32 = 0x313  # channel B active power, signed
REG_AVAR_32 = 0x314  # channel A reactive power, signed
REG_IRMSA_32 = 0x31A  # channel A RMS current, unsigned
REG_IRMSB_32 = 0x31B  # channel B RMS current, unsigned
REG_VRMS_32 = 0x31C  # RMS voltage, unsigned
REG_IRQSTATA_32 = 0x32D  # interrupt status A (sticky on silicon until RSTIRQSTATA is read)
REG_RSTIRQSTATA_32 = 0x32E  # read-with-reset of IRQSTATA
REG_LAST_RWDATA_32 = 0x3FF
# --- Special 8-bit registers ------------------------------------------------------------------
REG_VERSION = 0x702  # silicon version: the presence probe
REG_EX_REF = 0x800

# --- Calibration registers (32-bit aliases, unity gain = CAL_UNITY); not written yet ----------
REG_AIGAIN_32 = 0x380
REG_AVGAIN_32 = 0x381
REG_AWGAIN_32 = 0x382
REG_AVARGAIN_32 = 0x383
REG_AVAGAIN_32 = 0x384
REG_AIRMSOS_32 = 0x386
REG_VRMSOS_32 = 0x388
REG_AWATTOS_32 = 0x389
REG_AVAROS_32 = 0x38A
REG_AVAOS_32 = 0x38B
REG_BIGAIN_32 = 0x38C
REG_BWGAIN_32 = 0x38E
REG_BVARGAIN_32 = 0x38F
REG_BVAGAIN_32 = 0x390
REG_BIRMSOS_32 = 0x392
REG_BWATTOS_32 = 0x395
REG_BVAROS_32 = 0x396
REG_BVAOS_32 = 0x397
CAL_UNITY = 0x400000

# --- Values and bit fields --------------------------------------------------------------------
UNLOCK_KEY = 0xAD
OPTIMUM_SETTING = 0x0030
LAST_OP_READ = 0x35
LAST_OP_WRITE = 0xCA
CONFIG_HPFEN = 1 << 2  # high-pass filter on the current channels (default on)
CONFIG_COMM_LOCK = 1 << 15  # 1 = interface not locked (default)
CONFIG_VALUE = CONFIG_COMM_LOCK | CONFIG_HPFEN  # the reset default 0x8004, written explicitly
ZXTOUT_HZ = 14_000.0  # ZXTOUT decrements at 14 kHz
ZXTOUT_S = 0.1  # flag voltage loss after 100 ms (5 cycles at 50 Hz) without a zero crossing
ZXTOUT_COUNTS = round(ZXTOUT_S * ZXTOUT_HZ)
IRQ_ZXTO = 1 << 14  # IRQSTATA: no voltage zero crossing within ZXTOUT
PERIOD_CLOCK_HZ = 223_750.0

_LAST_RWDATA_BY_WIDTH = {
    1: REG_LAST_RWDATA_8,
    2: REG_LAST_RWDATA_16,
    3: REG_LAST_RWDATA_24,
    4: REG_LAST_RWDATA_32,
}


def register_width(register: int) -> int:
    """Data bytes of ``register``, implied by its address range."""
    if register in (REG_VERSION, REG_EX_REF):
        return 1
    if 0x000 <= register <= 0x3FF:
        return (register >> 8) + 1
    raise ValueError(f"0x{register:03X} is not an ADE7953 register address")


@dataclass(frozen=True, slots=True)
class RawMeterCounts:
    """Register contents of one reading, before scaling."""

    vrms: int
    irmsa: int
    irmsb: int
    awatt: int
    bwatt: int
    avar: int
    period: int
    irqstata: int


def scale_reading(raw: RawMeterCounts, wiring: MeterWiring, t: float) -> AcMeterReading:
    """The one place counts become engineering units."""
    voltage_lost = bool(raw.irqstata & IRQ_ZXTO)
    frequency_hz = 0.0 if voltage_lost else PERIOD_CLOCK_HZ / (raw.period + 1)
    return AcMeterReading(
        t=t,
        voltage_rms_v=raw.vrms / wiring.voltage_counts_per_v,
        frequency_hz=frequency_hz,
        grid_current_rms_a=raw.irmsa / wiring.current_counts_per_a,
        grid_power_w=raw.awatt / wiring.power_counts_per_w,
        grid_reactive_var=raw.avar / wiring.power_counts_per_w,
        pv_current_rms_a=raw.irmsb / wiring.current_counts_per_a,
        pv_power_w=raw.bwatt / wiring.power_counts_per_w,
        voltage_lost=voltage_lost,
    )


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
        self._read_msgs: dict[int, tuple[i2c_msg, i2c_msg]] = {}
        self._where = f"{CHIP} on I2C {bus.name} address 0x{self._address:02X}"
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
        self.verified_write(REG_CONFIG, CONFIG_VALUE)
        self.verified_write(REG_ZXTOUT, ZXTOUT_COUNTS)

    # -- register access ---------------------------------------------------------------------

    def read_register(self, register: int) -> int:
        """Read ``register`` as an unsigned integer of its width (HalIOError after retries)."""
        msgs = self._read_msgs.get(register)
        if msgs is None:
            # Built once per register and reused: the address bytes never change and the read
            # buffer is overwritten by each transfer (the driver is used by one thread).
            width = register_width(register)
            msgs = (i2c_msg.write(self._address, [register >> 8, register & 0xFF]),
                    i2c_msg.read(self._address, width))
            self._read_msgs[register] = msgs
        self._bus.rdwr(self._address, register, *msgs)
        return int.from_bytes(bytes(msgs[1]), "big")

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
        last_data = self.read_register(_LAST_RWDATA_BY_WIDTH[width])
        if last_op != LAST_OP_WRITE or last_add != register or last_data != value:
            raise HalIOError(
                f"{self._where} register 0x{register:03X}: write of 0x{value:X} not confirmed "
                f"(LAST_OP 0x{last_op:02X}, LAST_ADD 0x{last_add:03X}, "
                f"LAST_RWDATA 0x{last_data:X})"
            )

    def _read_24_in_32(self, register: int, signed: bool) -> int:
        """Read a 32-bit alias and check its upper byte is the extension of the 24-bit data."""
        raw = self.read_register(register)
        upper, data = raw >> 24, raw & 0xFFFFFF
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
            raw = RawMeterCounts(
                vrms=self._read_24_in_32(REG_VRMS_32, signed=False),
                irmsa=self._read_24_in_32(REG_IRMSA_32, signed=False),
                irmsb=self._read_24_in_32(REG_IRMSB_32, signed=False),
                awatt=self._read_24_in_32(REG_AWATT_32, signed=True),
                bwatt=self._read_24_in_32(REG_BWATT_32, signed=True),
                avar=self._read_24_in_32(REG_AVAR_32, signed=True),
                period=self.read_register(REG_PERIOD),
                irqstata=self.read_register(REG_IRQSTATA_32),
            )
        except SensorFault:
            raise
        except HalIOError as err:
            raise SensorFault(f"{self._where}: {err}") from err
        return scale_reading(raw, self._wiring, self._now())

    def close(self) -> None:
        self._closed = True
