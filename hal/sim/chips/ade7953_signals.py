"""The time-dependent inside of the simulated ADE7953: zero crossings, PERIOD, events, energy.

:class:`Ade7953Model` (``ade7953_model.py``) serves registers; this module decides what the chip
has seen by the time of an access. Everything advances lazily on each access, from the previous
access to ``now()``, so the model costs nothing between reads.

Physics modelled (datasheet facts from ``chips.md`` section 4.5):

* **Zero crossings.** The voltage's cycle count advances with the true frequency, or follows a
  ``cycles`` source: the plant's own count of the bus voltage's cycles and, of those, the
  phase steps. The smooth advance is spread over the interval; a step happens at its end, and
  one that carries the phase past a crossing is a crossing at that instant.
  Each positive-going crossing is time-stamped with gaussian jitter (``zx_jitter_s``, the ZX
  detector's noise).
* **PERIOD** is a reciprocal counter: a free-running 223.75 kHz counter (off by
  ``clock_error_ppm``, the crystal's tolerance) sampled at each crossing;
  the register holds ``counts between the last two crossings - 1`` and is updated once per line
  cycle. The quantisation therefore telescopes (the sum of N periods is exact to one count), as
  on the silicon.
* **ZXTOUT**: no crossing for ``ZXTOUT / 14 kHz`` seconds latches IRQSTATA.ZXTO (once per loss);
  a crossing latches ZXV. Latched bits stay until RSTIRQSTATA is read.
* **SAG**: the RMS voltage below SAGLVL for SAGCYC half cycles latches SAG. **OV**: the peak
  (``sqrt(2)`` times the RMS counts; the chip compares waveform samples) above OVLVL latches OV.
* **Energy**: AENERGYA/B and RENERGYA accumulate the power counts times seconds
  (``ENERGY_COUNTS_PER_POWER_COUNT_S``), read-with-reset as LCYCMODE.RSTREAD defaults.
* **A frozen input** (:meth:`ChipSignals.hold`, the ``meter_frozen_signal`` fault): the chip
  samples one constant waveform from then on, so its crossings come at that waveform's
  frequency without jitter, whatever the plant's bus does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hal.sim.truth import MeterTruth

PERIOD_CLOCK_HZ = 223_750.0
ZXTOUT_CLOCK_HZ = 14_000.0
PERIOD_MAX = 0xFFFF
ENERGY_COUNTS_PER_POWER_COUNT_S = 1.0
IRQ_ZXTO = 1 << 14
IRQ_ZXV = 1 << 15
IRQ_OV = 1 << 16
IRQ_SAG = 1 << 19
SQRT2 = math.sqrt(2.0)
NOMINAL_HALF_CYCLE_HZ = 50.0  # counts sag half cycles while the bus is dead


@dataclass
class EventLevels:
    """The configuration registers the event detectors compare against (raw counts)."""

    zxtout: int = 0xFFFF
    sag_cycles: int = 0
    sag_level: int = 0
    ov_level: int = 0xFFFFFF


class ChipSignals:
    """Zero-crossing timing, PERIOD, latched events and energy accumulation of one chip."""

    def __init__(self, now: Callable[[], float] | None, truth: Callable[[], MeterTruth],
                 rng: np.random.Generator, *, zx_jitter_s: float,
                 cycles: Callable[[], tuple[float, float]] | None = None,
                 clock_error_ppm: float = 0.0) -> None:
        self._now = now
        self._truth = truth
        self._rng = rng
        self.zx_jitter_s = zx_jitter_s
        self._cycle_source = cycles
        self._source_last = cycles() if cycles is not None else (0.0, 0.0)
        self._counter_hz = PERIOD_CLOCK_HZ * (1.0 + clock_error_ppm * 1e-6)
        self.levels = EventLevels()
        self._t: float | None = None
        self._cycles = 0.0
        self._last_zx_counter: int | None = None
        self._last_zx_t = 0.0
        self.period = PERIOD_MAX
        self.latched = 0
        self._zxto_armed = True
        self._sag_half_cycles = 0.0
        self.energy = {"a": 0.0, "b": 0.0, "ra": 0.0}

    def advance(self, power_counts: Callable[[], tuple[float, float, float]],
                vrms_counts: Callable[[], float]) -> None:
        """Bring every detector up to ``now()``; called before each register access."""
        if self._now is None:
            self._advance_untimed()
            return
        now = self._now()
        if self._t is None:
            self._t = self._last_zx_t = now
            return
        dt = now - self._t
        if dt <= 0.0:
            return
        truth = self._truth()
        live = truth.voltage_rms_v > 0.0 and truth.frequency_hz > 0.0
        if live:
            self._crossings(self._t, now, truth.frequency_hz)
            vrms = vrms_counts()
            self._check_levels(vrms, dt, truth.frequency_hz)
            pa, pb, qa = power_counts()
            scale = ENERGY_COUNTS_PER_POWER_COUNT_S * dt
            self.energy["a"] += pa * scale
            self.energy["b"] += pb * scale
            self.energy["ra"] += qa * scale
        else:
            self._last_zx_counter = None  # PERIOD holds the last complete cycle
            self._sag_half_cycles += 2.0 * NOMINAL_HALF_CYCLE_HZ * dt
            self._sag_check()
        if self._zxto_armed and now - self._last_zx_t >= self.levels.zxtout / ZXTOUT_CLOCK_HZ:
            self.latched |= IRQ_ZXTO
            self._zxto_armed = False
        self._t = now

    def hold(self, truth: MeterTruth) -> None:
        """From now on the chip sees ``truth`` for ever (a frozen input waveform): no jitter,
        no phase steps; crossings, events and energy follow that one waveform."""
        self._truth = lambda: truth
        self._cycle_source = None
        self.zx_jitter_s = 0.0

    def _advance_untimed(self) -> None:
        """Without a clock the model cannot time anything: ZXTO is a level (a dead bus)."""
        truth = self._truth()
        if truth.voltage_rms_v <= 0.0 or truth.frequency_hz <= 0.0:
            self.latched |= IRQ_ZXTO
            self.period = PERIOD_MAX
        else:
            self.latched |= IRQ_ZXV
            self.period = max(0, min(round(PERIOD_CLOCK_HZ / truth.frequency_hz) - 1, PERIOD_MAX))

    def _crossings(self, t0: float, t1: float, frequency_hz: float) -> None:
        advance = frequency_hz * (t1 - t0)
        step = 0.0
        if self._cycle_source is not None:
            total, steps = self._cycle_source()
            advance = total - self._source_last[0]
            step = steps - self._source_last[1]
            self._source_last = (total, steps)
            advance -= step
        # The cycles advance smoothly over the interval; a phase step happens at its end (the
        # plant applies it at a control tick, just before the meter is read). An advance that
        # carries the phase past a zero crossing is a crossing at that instant (the waveform
        # jumps through zero); a retard behind one makes the waveform cross it again later.
        before = self._cycles
        flowed = before + advance
        self._cycles = flowed + step
        first, last = math.floor(before) + 1, math.floor(max(flowed, self._cycles))
        # PERIOD, ZXV and the ZXTO timer depend only on the last two crossings: between rare
        # accesses (a slow control rate) the earlier ones need no time stamp.
        for k in range(max(first, last - 1), last + 1):
            smooth = k <= flowed and advance > 0.0  # else it is the step's crossing, at t1
            t_zx = t0 + (t1 - t0) * (k - before) / advance if smooth else t1
            if self.zx_jitter_s > 0.0:
                t_zx += self.zx_jitter_s * self._rng.standard_normal()  # = normal(0, s)
            counter = math.floor(t_zx * self._counter_hz)
            if self._last_zx_counter is not None:
                self.period = max(0, min(counter - self._last_zx_counter - 1, PERIOD_MAX))
            self._last_zx_counter = counter
            self._last_zx_t = t_zx
            self.latched |= IRQ_ZXV
            self._zxto_armed = True

    def _check_levels(self, vrms: float, dt: float, frequency_hz: float) -> None:
        if vrms * SQRT2 > self.levels.ov_level:
            self.latched |= IRQ_OV
        if vrms < self.levels.sag_level:
            self._sag_half_cycles += 2.0 * frequency_hz * dt
        else:
            self._sag_half_cycles = 0.0
        self._sag_check()

    def _sag_check(self) -> None:
        if self.levels.sag_cycles > 0 and self._sag_half_cycles >= self.levels.sag_cycles:
            self.latched |= IRQ_SAG

    def take_energy(self, key: str) -> int:
        """Read-with-reset of one accumulator: whole counts out, the fraction stays inside."""
        whole = math.trunc(self.energy[key])
        self.energy[key] -= whole
        return whole
