"""TI ADS1115 16-bit ADC on I2C: the slow DC-side quantities, converted one channel at a time.

Register facts: the TI ADS1115 datasheet's register map (ti.com/lit/ds/symlink/ads1115.pdf).
Registers are 16-bit big-endian behind an 8-bit pointer, so they go through
``I2cBus.read_block``/``write_block`` (never the little-endian SMBus word calls).

The driver runs the chip in single-shot mode as a non-blocking pipeline: each :meth:`poll` (once
per control tick) either finds the pending conversion still running (and returns at once), or
collects it and starts the next channel of the round-robin. A conversion pending longer than
``TIMEOUT_FACTOR`` times its nominal time raises :class:`SensorFault`; the next poll restarts it.

The DC-link guard (``guard``, issue 20): the comparator compares only the channel being
converted, so a guarded channel gets its own slots in the scan. Between every two scanned
channels the chip converts the guarded channel *continuously* with the window comparator on
(Hi_thresh = the alert level, Lo_thresh = the lowest code: only over-voltage asserts; latching,
ALERT/RDY active low, asserted after two successive conversions above, because the first
conversion after a MUX change may still be the previous channel's): the scan is guard, X,
guard, Y, ... With a guard every slot runs in continuous mode (a single-shot start is ignored
while a continuous conversion runs), and a result is taken only two conversion periods after
the MUX change (15.6 ms at 128 SPS: inside one 20 ms tick). At a guard slot's next poll the
latest conversion is the guarded channel's sample (reading it releases the latch: the
controller reads the ALERT input before it polls, and the input counts an assertion since its
last read, so a poll that released the latch first, as the Pi's reader thread may, does not
hide it), then the next scanned channel converts with
the comparator off (ALERT released). So the guarded channel is compared at every conversion
during every other tick, and sampled every other tick (``docs/performance.md``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType

from hal.errors import HalIOError, HalSetupError, SensorFault
from hal.i2c import I2cBus
from hal.interfaces.adc import AdcChannel, AdcDevice, Sample
from hal.settings import (
    ADS1115_FSR_V,
    ADS1115_RATES_SPS,
    AdcChannelWiring,
    AdcWiring,
    NtcAdcWiring,
)

CHIP = "ADS1115"

# --- Pointer register values ------------------------------------------------------------------
REG_CONVERSION = 0x00
REG_CONFIG = 0x01
REG_LO_THRESH = 0x02
REG_HI_THRESH = 0x03

# --- Config register bit fields ---------------------------------------------------------------
CONFIG_RESET = 0x8583
OS_BIT = 1 << 15  # write 1: start a single conversion; read 1: idle (conversion done)
MUX_SHIFT = 12
MUX_SINGLE_ENDED = 0b100  # MUX = 100 + ain: AINx against GND
PGA_SHIFT = 9
MODE_SINGLE_SHOT = 1 << 8
DR_SHIFT = 5
COMP_QUE_DISABLE = 0b11
COMP_MODE_WINDOW = 1 << 4
COMP_LAT = 1 << 2  # latching: ALERT stays until the Conversion register is read
COMP_QUE_TWO = 0b01  # assert after two successive conversions beyond a threshold
GUARD_COMPARATOR = COMP_MODE_WINDOW | COMP_LAT | COMP_QUE_TWO  # COMP_POL 0: active low
MUX_SETTLE_PERIODS = 2  # continuous mode: the first result after a MUX change may be stale
LO_THRESH_NEVER = 0x8000  # the lowest code: nothing is below it
CONFIG_FIELDS_MASK = 0x7FFF  # everything but OS reads back as written

PGA_CODE_BY_FSR = {fsr: code for code, fsr in enumerate(ADS1115_FSR_V)}  # 6.144 V -> 0 ...
DR_CODE_BY_RATE = {rate: code for code, rate in enumerate(ADS1115_RATES_SPS)}  # 8 SPS -> 0 ...
FULL_SCALE_COUNTS = 32768  # LSB = FSR / 32768
TIMEOUT_FACTOR = 10.0  # a conversion is lost after 10x its nominal time

UNIT_BY_SUFFIX = {"_v": "V", "_a": "A", "_c": "degC"}


def config_word(ain: int, fsr_v: float, data_rate_sps: int, start: bool, *,
                continuous: bool = False, comparator: int = COMP_QUE_DISABLE) -> int:
    """Config for a conversion of AIN``ain`` against GND: single-shot with the comparator off
    unless told (``comparator``: the COMP_MODE/POL/LAT/QUE bits 4..0)."""
    if not 0 <= ain <= 3:
        raise ValueError(f"ain {ain} is not 0..3")
    fsr, pga = min(PGA_CODE_BY_FSR.items(), key=lambda item: abs(item[0] - fsr_v))
    if abs(fsr - fsr_v) > 1e-9:
        raise ValueError(f"{fsr_v} V is not an ADS1115 full-scale range")
    return (
        (OS_BIT if start else 0)
        | (MUX_SINGLE_ENDED + ain) << MUX_SHIFT
        | pga << PGA_SHIFT
        | (0 if continuous else MODE_SINGLE_SHOT)
        | DR_CODE_BY_RATE[data_rate_sps] << DR_SHIFT
        | comparator & 0x1F
    )


def threshold_code(value: float, wiring: AdcChannelWiring) -> int:
    """The 16-bit threshold register word for an engineering value (the inverse of
    :func:`counts_to_value`), clipped to the chip's code range."""
    counts = round((value / wiring.scale + wiring.offset_v) * FULL_SCALE_COUNTS / wiring.fsr_v)
    return min(max(counts, -FULL_SCALE_COUNTS), FULL_SCALE_COUNTS - 1) & 0xFFFF


def decode_conversion(data: bytes) -> int:
    """The Conversion register: 16-bit two's complement, big-endian."""
    if len(data) != 2:
        raise ValueError(f"expected 2 bytes, got {len(data)}")
    return int.from_bytes(data, "big", signed=True)


def counts_to_value(counts: int, wiring: AdcChannelWiring) -> float:
    """The one place counts become engineering units: pin volts, minus offset, times scale."""
    pin_v = counts * wiring.fsr_v / FULL_SCALE_COUNTS
    return (pin_v - wiring.offset_v) * wiring.scale


def unit_for(name: str) -> str:
    for suffix, unit in UNIT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return unit
    return ""


class Ads1115Channel(AdcChannel):
    """One converted channel; filled by :meth:`Ads1115.poll`."""

    def __init__(self, name: str, wiring: AdcChannelWiring, now: Callable[[], float],
                 stale_after_s: float) -> None:
        self.name = name
        self.unit = unit_for(name)
        self.wiring = wiring
        self._now = now
        self._stale_after_s = stale_after_s
        self._latest: Sample | None = None
        self._pin: Sample | None = None

    def latest(self) -> Sample | None:
        return self._latest

    def latest_pin_volts(self) -> Sample | None:
        """The newest conversion as volts at the pin, before offset and scale (raw volts)."""
        return self._pin

    def fresh(self) -> Sample | None:
        """:meth:`latest`, or ``None`` when it is older than the driver's ``stale_after_s``."""
        sample = self._latest
        if sample is None or self._now() - sample.t > self._stale_after_s:
            return None
        return sample

    def _store(self, sample: Sample, pin_volts: float) -> None:
        self._latest = sample
        self._pin = Sample(value=pin_volts, t=sample.t)


class DividerRatio:
    """An ADS1115 channel read as a divider ratio (pin volts / reference volts), e.g. an NTC to
    GND with a pull-up to ``reference_v``: a :class:`hal.interfaces.temperature.TemperatureSensor`
    whose conversion (beta equation, open/short) is the controller's (``ntc.py``)."""

    def __init__(self, channel: Ads1115Channel, reference_v: float,
                 max_age_s: float = 1.0) -> None:
        if reference_v <= 0.0:
            raise ValueError("reference_v must be positive")
        self.name = channel.name
        self._channel = channel
        self._reference_v = reference_v
        self._max_age_s = max_age_s

    def read(self) -> float:
        sample = self._channel.latest_pin_volts()
        if sample is None or self._channel._now() - sample.t > self._max_age_s:
            raise SensorFault(f"{CHIP} channel {self.name}: no conversion within "
                              f"{self._max_age_s} s")
        return sample.value / self._reference_v


class Ads1115(AdcDevice):
    """The DC-side ADC. Construction probes the chip; :meth:`poll` once per tick.

    The :class:`I2cBus` belongs to whoever built it (it is shared with other chips), so
    :meth:`close` only retires this driver.
    """

    def __init__(self, bus: I2cBus, wiring: AdcWiring | NtcAdcWiring, now: Callable[[], float],
                 stale_after_s: float = 1.0, guard: tuple[str, float] | None = None) -> None:
        """``guard``: (channel name, level) for the DC-link guard (module doc), or ``None``."""
        if wiring.data_rate_sps not in DR_CODE_BY_RATE:
            raise ValueError(f"{wiring.data_rate_sps} SPS is not an ADS1115 data rate")
        self._bus = bus
        self._address = wiring.address
        self._now = now
        self._where = f"{CHIP} on I2C {bus.name} address 0x{self._address:02X}"
        self._data_rate = wiring.data_rate_sps
        self._timeout_s = TIMEOUT_FACTOR / wiring.data_rate_sps
        self._order = [
            Ads1115Channel(f.name, getattr(wiring.channels, f.name), now, stale_after_s)
            for f in dataclasses.fields(wiring.channels)
        ]
        self._channels: Mapping[str, AdcChannel] = MappingProxyType(
            {ch.name: ch for ch in self._order}
        )
        # The scan: (channel, start-conversion config word, continuous), built once.
        self._slots = [(ch, self._config_for(ch, start=True), False) for ch in self._order]
        self._guard: Ads1115Channel | None = None
        self._guard_hi = 0
        if guard is not None:
            self._guard = next((ch for ch in self._order if ch.name == guard[0]), None)
            if self._guard is None:
                raise ValueError(f"guard channel {guard[0]!r} is not converted")
            self._guard_hi = threshold_code(guard[1], self._guard.wiring)
            word = config_word(self._guard.wiring.ain, self._guard.wiring.fsr_v,
                               self._data_rate, False, continuous=True,
                               comparator=GUARD_COMPARATOR)
            others = [(ch, config_word(ch.wiring.ain, ch.wiring.fsr_v, self._data_rate, False,
                                       continuous=True), True)
                      for ch in self._order if ch is not self._guard]
            guard_slot = (self._guard, word, True)
            self._slots = [s for slot in others for s in (guard_slot, slot)] or [guard_slot]
        self._next = 0
        self._pending: Ads1115Channel | None = None
        self._pending_config = 0
        self._pending_continuous = False
        self._started_at = 0.0
        self._closed = False
        self._probe()

    def _config_for(self, channel: Ads1115Channel, start: bool) -> int:
        return config_word(channel.wiring.ain, channel.wiring.fsr_v, self._data_rate, start)

    def _probe(self) -> None:
        """Presence check: Config answers, and a config written with OS=0 reads back."""
        try:
            self.power_up_config = self._read_word(REG_CONFIG)
            if self._order:
                probe = self._config_for(self._order[0], start=False)
                self._write_word(REG_CONFIG, probe)
                readback = self._read_word(REG_CONFIG)
                if readback & CONFIG_FIELDS_MASK != probe & CONFIG_FIELDS_MASK:
                    raise HalSetupError(
                        f"{self._where}: does not look like an {CHIP} (Config reads back "
                        f"0x{readback:04X} after writing 0x{probe:04X})"
                    )
            if self._guard is not None:
                self._write_word(REG_LO_THRESH, LO_THRESH_NEVER)
                self._write_word(REG_HI_THRESH, self._guard_hi)
                for register, want in ((REG_LO_THRESH, LO_THRESH_NEVER),
                                       (REG_HI_THRESH, self._guard_hi)):
                    got = self._read_word(register)
                    if got != want:
                        raise HalSetupError(
                            f"{self._where}: threshold register 0x{register:02X} reads back "
                            f"0x{got:04X} after writing 0x{want:04X}")
        except HalSetupError:
            raise
        except HalIOError as err:
            raise HalSetupError(f"{self._where}: no answer on the Config register: {err}") from err

    def _read_word(self, register: int) -> int:
        return int.from_bytes(self._bus.read_block(self._address, register, 2), "big")

    def _write_word(self, register: int, value: int) -> None:
        self._bus.write_block(self._address, register, list(value.to_bytes(2, "big")))

    # -- AdcDevice ---------------------------------------------------------------------------

    @property
    def channels(self) -> Mapping[str, AdcChannel]:
        return self._channels

    def poll(self) -> None:
        if self._closed:
            raise SensorFault(f"{self._where}: driver is closed")
        if not self._order:
            return
        try:
            if self._pending is not None and not self._collect(self._pending):
                return
            channel, word, continuous = self._slots[self._next]
            self._start(channel, word, continuous)
        except SensorFault:
            self._pending = None
            raise
        except HalIOError as err:
            self._pending = None
            raise SensorFault(f"{self._where}: {err}") from err

    def _collect(self, channel: Ads1115Channel) -> bool:
        """Store the pending conversion if it is done; ``False`` while it is still running."""
        config = self._read_word(REG_CONFIG)
        if config & CONFIG_FIELDS_MASK != self._pending_config & CONFIG_FIELDS_MASK:
            raise SensorFault(
                f"{self._where} register 0x{REG_CONFIG:02X}: reads 0x{config:04X} while "
                f"converting {channel.name} with 0x{self._pending_config:04X}"
            )
        if self._pending_continuous:  # OS reads 0 while it runs: settled after two periods
            if self._now() - self._started_at < MUX_SETTLE_PERIODS / self._data_rate - 1e-9:
                return False
        elif not config & OS_BIT:
            waited = self._now() - self._started_at
            if waited > self._timeout_s:
                raise SensorFault(
                    f"{self._where}: conversion of {channel.name} not done after "
                    f"{waited * 1000:.0f} ms (bound {self._timeout_s * 1000:.0f} ms)"
                )
            return False
        counts = decode_conversion(self._bus.read_block(self._address, REG_CONVERSION, 2))
        pin_v = counts * channel.wiring.fsr_v / FULL_SCALE_COUNTS
        channel._store(Sample(value=counts_to_value(counts, channel.wiring), t=self._now()),
                       pin_v)
        self._pending = None
        self._next = (self._next + 1) % len(self._slots)
        return True

    def _start(self, channel: Ads1115Channel, config: int, continuous: bool = False) -> None:
        self._write_word(REG_CONFIG, config)
        self._pending = channel
        self._pending_config = config
        self._pending_continuous = continuous
        self._started_at = self._now()

    def close(self) -> None:
        self._closed = True
