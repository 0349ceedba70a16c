"""ADE7953 register map and bit fields (Analog Devices ADE7953 datasheet Rev. B, register
tables 13-25; analog.com/media/en/technical-documentation/data-sheets/ADE7953.pdf).

Addresses are 16-bit; the data width is implied by the address range (:func:`register_width`).
The 32-bit aliases (0x3xx) of the 24-bit registers are used for reading because their upper
byte is the sign (or zero) extension of the data: a free integrity check on every read.
"""

from __future__ import annotations

CHIP = "ADE7953"

# --- 8-bit (0x000-0x0FF) ----------------------------------------------------------------------
REG_SAGCYC = 0x000  # half cycles below SAGLVL before the SAG event
REG_LCYCMODE = 0x004  # bit 6 RSTREAD: energy registers are read-with-reset (default 1)
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
# --- 24-bit (0x200-0x2FF) ---------------------------------------------------------------------
REG_SAGLVL = 0x200
REG_OVLVL = 0x224
REG_LAST_RWDATA_24 = 0x2FF
# --- 32-bit, sign-extended aliases of the 24-bit registers (0x300-0x3FF) --------------------
REG_AWATT_32 = 0x312  # channel A active power, signed
REG_BWATT_32 = 0x313  # channel B active power, signed
REG_AVAR_32 = 0x314  # channel A reactive power, signed
REG_IRMSA_32 = 0x31A  # channel A RMS current, unsigned
REG_IRMSB_32 = 0x31B  # channel B RMS current, unsigned
REG_VRMS_32 = 0x31C  # RMS voltage, unsigned
REG_AENERGYA_32 = 0x31E  # channel A active energy, signed, read-with-reset
REG_AENERGYB_32 = 0x31F  # channel B active energy, signed, read-with-reset
REG_RENERGYA_32 = 0x320  # channel A reactive energy, signed, read-with-reset
REG_IRQSTATA_32 = 0x32D  # interrupt status A (latched until RSTIRQSTATA is read)
REG_RSTIRQSTATA_32 = 0x32E  # read-with-reset of IRQSTATA
REG_LAST_RWDATA_32 = 0x3FF
# --- Special 8-bit registers ------------------------------------------------------------------
REG_VERSION = 0x702  # silicon version: the presence probe
REG_EX_REF = 0x800

# --- Calibration registers (32-bit aliases, unity gain = CAL_UNITY) ---------------------------
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
CAL_MAX = 0x7FFFFF
GAIN_REGISTERS = {  # MeterGains field -> gain register
    "voltage": REG_AVGAIN_32,
    "grid_current": REG_AIGAIN_32,
    "grid_power": REG_AWGAIN_32,
    "grid_reactive": REG_AVARGAIN_32,
    "pv_current": REG_BIGAIN_32,
    "pv_power": REG_BWGAIN_32,
}

# --- Values and bit fields --------------------------------------------------------------------
UNLOCK_KEY = 0xAD
OPTIMUM_SETTING = 0x0030
LAST_OP_READ = 0x35
LAST_OP_WRITE = 0xCA
CONFIG_HPFEN = 1 << 2  # high-pass filter on the current channels (default on)
CONFIG_COMM_LOCK = 1 << 15  # 1 = interface not locked (default)
CONFIG_VALUE = CONFIG_COMM_LOCK | CONFIG_HPFEN  # the reset default 0x8004, written explicitly
ZXTOUT_HZ = 14_000.0  # ZXTOUT decrements at 14 kHz
ZXTOUT_S = 0.06  # flag voltage loss after 60 ms (3 cycles at 50 Hz) without a zero crossing
ZXTOUT_COUNTS = round(ZXTOUT_S * ZXTOUT_HZ)
IRQ_ZXTO = 1 << 14  # no voltage zero crossing within ZXTOUT
IRQ_ZXV = 1 << 15  # a voltage zero crossing
IRQ_OV = 1 << 16  # voltage peak above OVLVL
IRQ_SAG = 1 << 19  # voltage below SAGLVL for SAGCYC half cycles
IRQ_RESET = 1 << 20  # the chip has (re)started: its configuration is at defaults
IRQ_VALID_MASK = (1 << 22) - 1  # bits 22-31 of IRQSTATA always read 0
PERIOD_CLOCK_HZ = 223_750.0
PERIOD_DEAD = 0xFFFF
U24_MAX = 0xFFFFFF
# Energy accumulation: counts of AENERGYx per (AxWATT count x second). The silicon's rate is set
# by its accumulation clock and LCYCMODE; verify against the datasheet for the board in use.
ENERGY_COUNTS_PER_POWER_COUNT_S = 1.0
SECONDS_PER_HOUR = 3600.0

LAST_RWDATA_BY_WIDTH = {
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
