"""Register-level model of the ADE7953 energy meter, as the chip sees the I2C bus.

Deliberately written from the datasheet (``chips.md`` section 4.5), not from the driver, so the
two can disagree and the tests catch it. The model keeps a 16-bit register pointer: a write
transaction is 2 address bytes, optionally followed by exactly the register's width of data
(MSB first; any other length is ignored, as the chip does); a read returns the pointed register
MSB first with its width (shorter reads are truncated, longer ones padded with 0x00).

Measurements are computed on every read from ``truth()`` and the board's counts-per-unit
(:class:`hal.settings.MeterWiring`), with gain error, offset and gaussian noise, then quantised
to integer counts and clamped to 24 bits. The 32-bit aliases (0x3xx) carry the same 24-bit data
sign-extended (datasheet p. 60).

Timing (zero crossings, PERIOD as a reciprocal counter, latched ZXTO/ZXV/SAG/OV status and the
energy accumulators) lives in :mod:`hal.sim.chips.ade7953_signals`; it needs ``now``. Without a
clock the model falls back to an untimed chip (PERIOD from the true frequency, ZXTO as soon as
the voltage is gone). The gain registers (xIGAIN, AVGAIN, xWGAIN, AVARGAIN; 0x400000 = 1.0)
scale the measurements as on the silicon. Simplifications: waveforms, peaks, PF, the offset
registers and CRC read 0 or are stored without effect.

Two failures of a chip that still answers on I2C (``simulation/fault_injection.py``):
:meth:`Ade7953Model.freeze_signal` (the input waveform freezes: constant, noise-free RMS and
power, energy still accumulating at that constant rate) and
:meth:`Ade7953Model.freeze_registers` (the DSP stops: every measurement register returns its
last value, the energy accumulators, PERIOD and the event detectors stop; the register
interface itself, LAST_OP/LAST_ADD/LAST_RWDATA and the configuration, keeps working).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from hal.settings import MeterWiring
from hal.sim.chips.ade7953_signals import ChipSignals
from hal.sim.i2c_bus import I2cDeviceModel
from hal.sim.truth import MeterTruth

# Registers (24-bit addresses for the 24/32-bit bank; 0x3xx aliases map to 0x2xx).
SAGCYC = 0x000
LAST_OP = 0x0FD
UNLOCK = 0x0FE
LAST_RWDATA_8 = 0x0FF
ZXTOUT = 0x100
CONFIG = 0x102
PERIOD = 0x10E
OPTIMUM = 0x120
LAST_ADD = 0x1FE
LAST_RWDATA_16 = 0x1FF
SAGLVL = 0x200
AVA = 0x210
BVA = 0x211
AWATT = 0x212
BWATT = 0x213
AVAR = 0x214
BVAR = 0x215
IRMSA = 0x21A
IRMSB = 0x21B
VRMS = 0x21C
AENERGYA = 0x21E
AENERGYB = 0x21F
RENERGYA = 0x220
OVLVL = 0x224
IRQSTATA = 0x22D
RSTIRQSTATA = 0x22E
LAST_RWDATA_24 = 0x2FF
AIGAIN = 0x280
AVGAIN = 0x281
AWGAIN = 0x282
AVARGAIN = 0x283
BIGAIN = 0x28C
BWGAIN = 0x28E
GAIN_UNITY = 0x400000
VERSION = 0x702
EX_REF = 0x800

UNLOCK_KEY = 0xAD
OP_READ = 0x35
OP_WRITE = 0xCA
IRQ_RESET = 1 << 20
ZX_JITTER_S = 1e-6  # rms timing noise of the zero-crossing detector
DEFAULT_VERSION = 0x02  # a plausible silicon version; the real value varies by revision

_LAST_REGISTERS = frozenset({LAST_OP, LAST_ADD, LAST_RWDATA_8, LAST_RWDATA_16, LAST_RWDATA_24})
_READ_ONLY = frozenset({
    LAST_OP, LAST_RWDATA_8, PERIOD, LAST_ADD, LAST_RWDATA_16, AVA, BVA, AWATT, BWATT, AVAR,
    BVAR, IRMSA, IRMSB, VRMS, IRQSTATA, RSTIRQSTATA, LAST_RWDATA_24, VERSION, AENERGYA,
    AENERGYB, RENERGYA,
})
_LEVEL_REGISTERS = frozenset({ZXTOUT, SAGCYC, SAGLVL, OVLVL})
_GAIN_OF = {IRMSA: AIGAIN, VRMS: AVGAIN, AWATT: AWGAIN, AVAR: AVARGAIN, IRMSB: BIGAIN,
            BWATT: BWGAIN}
_GAIN_REGISTERS = frozenset(_GAIN_OF.values())
_DEFAULTS = {
    0x004: 0x40,  # LCYCMODE
    ZXTOUT: 0xFFFF,
    CONFIG: 0x8004,
    0x103: 0x003F,  # CF1DEN
    0x104: 0x003F,  # CF2DEN
    0x107: 0x0300,  # CFMODE
    0x203: 0x00E419,  # AP_NOLOAD
    0x204: 0x00E419,  # VAR_NOLOAD
    0x224: 0xFFFFFF,  # OVLVL
    0x225: 0xFFFFFF,  # OILVL
    0x22C: 0x100000,  # IRQENA
    **dict.fromkeys((0x280, 0x281, 0x282, 0x283, 0x284, 0x28C, 0x28D, 0x28E, 0x28F, 0x290),
                    0x400000),  # gains, unity
}
_MAX_U24 = 0xFFFFFF
_MIN_S24, _MAX_S24 = -(1 << 23), (1 << 23) - 1


def register_width(register: int) -> int:
    """Bytes on the wire for ``register`` (address range rule; VERSION and EX_REF are 8-bit)."""
    if register in (VERSION, EX_REF):
        return 1
    if 0x000 <= register <= 0x3FF:
        return (register >> 8) + 1
    return 1  # unmapped addresses answer one byte of 0


@functools.cache
def _read_rules(register: int) -> tuple[int, bool, bool]:
    """How a read of ``register`` answers: its width in bytes, whether its 24-bit data is
    sign-extended into a 32-bit alias, whether the read is recorded in LAST_ADD/LAST_RWDATA."""
    last = _canonical(register) in _LAST_REGISTERS
    return register_width(register), 0x300 <= register <= 0x3FF and not last, not last


def _canonical(register: int) -> int:
    """The 32-bit aliases (0x300-0x3FF) share storage with the 24-bit registers."""
    return register - 0x100 if 0x300 <= register <= 0x3FF else register


class Ade7953Model(I2cDeviceModel):
    """The chip at 0x38: register pointer, configuration registers and live measurements."""

    def __init__(
        self,
        truth: Callable[[], MeterTruth],
        board: MeterWiring,
        rng: np.random.Generator,
        *,
        rms_noise_rel: float = 2e-4,
        power_noise_rel: float = 5e-4,
        period_jitter_counts: int = 1,
        gain_error: float = 0.0,
        offset_counts: float = 0.0,
        version: int = DEFAULT_VERSION,
        noiseless: bool = False,
        now: Callable[[], float] | None = None,
        cycles: Callable[[], tuple[float, float]] | None = None,
        zx_jitter_s: float = ZX_JITTER_S,
        clock_error_ppm: float = 0.0,
    ) -> None:
        """``noiseless=True`` zeroes the noise levels (quantisation, gain, offset stay).

        ``now`` times zero crossings, events and energy; ``cycles`` (the bus voltage's cycle
        count and its phase steps, kept by the plant) makes phase jumps visible.
        """
        self.truth = truth
        self.board = board
        self._rng = rng
        self.rms_noise_rel = 0.0 if noiseless else rms_noise_rel
        self.power_noise_rel = 0.0 if noiseless else power_noise_rel
        self.period_jitter_counts = 0 if noiseless else period_jitter_counts  # untimed only
        self.signals = ChipSignals(now, truth, rng, zx_jitter_s=0.0 if noiseless else zx_jitter_s,
                                   cycles=cycles, clock_error_ppm=clock_error_ppm)
        self.gain_error = gain_error
        self.offset_counts = offset_counts
        self.version = version
        self._pointer = 0
        self._computed: dict[int, Callable[[], int]] = {
            LAST_OP: lambda: self._last_op,
            LAST_ADD: lambda: self._last_add,
            VERSION: lambda: self.version,
            PERIOD: lambda: self.signals.period,
            IRQSTATA: self._irqstata,
            RSTIRQSTATA: self._rstirqstata,
            AENERGYA: lambda: self._energy("a"),
            AENERGYB: lambda: self._energy("b"),
            RENERGYA: lambda: self._energy("ra"),
        }
        self._stored: dict[int, int] = dict(_DEFAULTS)
        self._chip_gain: dict[int, float] = {}  # measured register -> its gain register, scaled
        self._sync_config()
        self._vrms_quiet = functools.partial(self._counts, VRMS, False)
        self._unlocked = False
        self._reset_pending = True  # IRQSTATA RESET until RSTIRQSTATA is read
        self._last_op = 0
        self._last_add = 0
        self._last_data = 0
        self.writes = 0
        self.reads = 0
        self.registers_frozen = False
        self._held: dict[int, int] = {}  # each measurement register's last answer

    # -- I2cDeviceModel ----------------------------------------------------------------------

    def on_write(self, data: bytes) -> None:
        if len(data) < 2:
            return
        register = data[0] << 8 | data[1]
        self._pointer = register
        payload = data[2:]
        if not payload:
            return
        if len(payload) != register_width(register):
            return  # illegal length: the chip takes no action
        value = int.from_bytes(payload, "big")
        self._store(register, value)
        self._record(OP_WRITE, register, value)
        self.writes += 1

    def on_read(self, n: int) -> bytes:
        if not self.registers_frozen:
            self.signals.advance(self._power_counts, self._vrms_quiet)
        register = self._pointer
        width, extends, records = _read_rules(register)
        canonical = register - 0x100 if extends else register  # _canonical's, for _MEASURED
        measure = _MEASURED.get(canonical)
        if measure is not None and not self.registers_frozen:  # a live measurement (_value's)
            value = self._held[canonical] = self._measure_with(canonical, measure)
        else:
            value = self._value(register)
        if extends and value & 0x800000:
            value |= 0xFF000000  # sign-extend the 24-bit data into the 32-bit alias
        if records:  # _record's, inline: five reads a tick
            self._last_op, self._last_add, self._last_data = OP_READ, register, value
        self.reads += 1
        raw = value.to_bytes(width, "big")
        return raw if n == width else (raw + bytes(max(0, n - width)))[:n]

    # -- inspection for tests and the simulator ----------------------------------------------

    def power_cycle(self) -> None:
        """A brown-out: every register back to its default, IRQSTATA.RESET set."""
        self._stored = dict(_DEFAULTS)
        self._sync_config()
        self._unlocked = False
        self._reset_pending = True

    def freeze_signal(self) -> None:
        """The input waveform freezes as it is now (a stuck sample-and-hold or ADC buffer): the
        chip keeps measuring that one waveform, so RMS and power stay constant without noise
        and the energy keeps accumulating at a constant rate."""
        frozen = self.truth()
        self.truth = lambda: frozen
        self.rms_noise_rel = self.power_noise_rel = 0.0
        self.signals.hold(frozen)

    def freeze_registers(self) -> None:
        """The DSP stops: every measurement register returns its last value; energy, PERIOD,
        zero crossings and events no longer advance. I2C and the register file still work."""
        self.registers_frozen = True

    def stored(self, register: int) -> int:
        """A configuration register's value (0 if never written and no default)."""
        return self._stored.get(_canonical(register), 0)

    # -- internals ---------------------------------------------------------------------------

    def _record(self, op: int, register: int, value: int) -> None:
        self._last_op, self._last_add, self._last_data = op, register, value

    def _store(self, register: int, value: int) -> None:
        unlocked, self._unlocked = self._unlocked, False
        canonical = _canonical(register)
        if register == UNLOCK:
            self._unlocked = value == UNLOCK_KEY
        elif canonical in _READ_ONLY or (register == OPTIMUM and not unlocked):
            return
        self._stored[canonical] = value & _MAX_U24
        if canonical in _LEVEL_REGISTERS or canonical in _GAIN_REGISTERS:
            self._sync_config()

    def _value(self, register: int) -> int:
        canonical = _canonical(register)
        if canonical in (LAST_RWDATA_8, LAST_RWDATA_16, LAST_RWDATA_24):
            return self._last_data & ((1 << 8 * register_width(register)) - 1)
        computed = self._computed.get(canonical)
        if computed is not None:
            return computed()
        if canonical in _MEASURED:
            held = self._held.get(canonical) if self.registers_frozen else None
            if held is None:
                held = self._held[canonical] = self._measure(canonical)
            return held
        return self._stored.get(canonical, 0)

    def _sync_config(self) -> None:
        """Hand the event thresholds to the detectors and take the gain registers (0x400000 =
        1.0) as factors (after any write that changes one)."""
        self._chip_gain = {register: self._stored.get(gain, GAIN_UNITY) / GAIN_UNITY
                           for register, gain in _GAIN_OF.items()}
        levels = self.signals.levels
        levels.zxtout = self._stored.get(ZXTOUT, 0xFFFF)
        levels.sag_cycles = self._stored.get(SAGCYC, 0)
        levels.sag_level = self._stored.get(SAGLVL, 0)
        levels.ov_level = self._stored.get(OVLVL, _MAX_U24)

    def _power_counts(self) -> tuple[float, float, float]:
        """AWATT, BWATT and AVAR's noise-free counts (``_counts`` of each, one truth read)."""
        truth, board, counts_of = self.truth(), self.board, self._counts_of
        return (counts_of(AWATT, *_MEASURED[AWATT](truth, board), False),
                counts_of(BWATT, *_MEASURED[BWATT](truth, board), False),
                counts_of(AVAR, *_MEASURED[AVAR](truth, board), False))

    def _energy(self, key: str) -> int:
        return min(max(self.signals.take_energy(key), _MIN_S24), _MAX_S24) & _MAX_U24

    def _irqstata(self) -> int:
        return self.signals.latched | (IRQ_RESET if self._reset_pending else 0)

    def _rstirqstata(self) -> int:
        status = self._irqstata()
        self.signals.latched = 0
        self._reset_pending = False
        return status

    def _counts(self, register: int, noise: bool) -> float:
        """The register's unquantised counts: truth, board scale, gain register and errors."""
        quantity, counts_per_unit, signed = _MEASURED[register](self.truth(), self.board)
        return self._counts_of(register, quantity, counts_per_unit, signed, noise)

    def _counts_of(self, register: int, quantity: float, counts_per_unit: float, signed: bool,
                   noise: bool) -> float:
        chip_gain = self._chip_gain.get(register, 1.0)  # 1.0: no gain register
        counts = (quantity * counts_per_unit * (1.0 + self.gain_error) * chip_gain
                  + self.offset_counts)
        rel_noise = self.power_noise_rel if signed else self.rms_noise_rel
        if noise and rel_noise > 0.0:
            counts += rel_noise * abs(counts) * self._rng.standard_normal()  # = normal(0, s)
        return counts

    def _measure(self, register: int) -> int:
        return self._measure_with(register, _MEASURED[register])

    def _measure_with(self, register: int, measured: _Measured) -> int:
        """``_measure`` with the register's entry of ``_MEASURED`` already looked up; the
        answer is also the value a frozen DSP would hold."""
        quantity, counts_per_unit, signed = measured(self.truth(), self.board)
        counts = self._counts_of(register, quantity, counts_per_unit, signed, noise=True)
        if signed:
            return min(max(round(counts), _MIN_S24), _MAX_S24) & _MAX_U24
        return min(max(round(counts), 0), _MAX_U24)


_Measured = Callable[[MeterTruth, MeterWiring], tuple[float, float, bool]]
# register -> (true quantity, counts per unit, signed). Sign conventions: AWATT/AVAR positive
# = import from the grid; BWATT positive = PV generation.
_MEASURED: dict[int, _Measured] = {
    VRMS: lambda t, b: (t.voltage_rms_v, b.voltage_counts_per_v, False),
    IRMSA: lambda t, b: (t.grid_current_rms_a, b.current_counts_per_a, False),
    IRMSB: lambda t, b: (t.pv_current_rms_a, b.current_counts_per_a, False),
    AWATT: lambda t, b: (t.grid_power_w, b.power_counts_per_w, True),
    BWATT: lambda t, b: (t.pv_power_w, b.power_counts_per_w, True),
    AVAR: lambda t, b: (t.grid_reactive_var, b.power_counts_per_w, True),
    BVAR: lambda t, b: (0.0, b.power_counts_per_w, True),
    AVA: lambda t, b: (t.voltage_rms_v * t.grid_current_rms_a, b.power_counts_per_w, True),
    BVA: lambda t, b: (t.voltage_rms_v * t.pv_current_rms_a, b.power_counts_per_w, True),
}
