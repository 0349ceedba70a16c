"""A bench rig: the production ADE7953 driver on the simulated chip, fed by a scripted grid.

Used by the accuracy benchmark (``bench/measurement_accuracy.py``) and the measurement tests: a
grid whose voltage and frequency are functions of time, the register model on a
:class:`SimSMBus`, a real :class:`I2cBus` and :class:`Ade7953`, and a clock the rig advances one
control tick at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hal.drivers.ade7953 import Ade7953
from hal.i2c import I2cBus
from hal.interfaces.meter import AcMeterReading
from hal.settings import MeterWiring
from hal.sim.chips.ade7953_model import Ade7953Model
from hal.sim.i2c_bus import SimSMBus
from hal.sim.truth import MeterTruth

TICK_S = 0.02


@dataclass(frozen=True)
class NoiseModel:
    """The chip's imperfections; the defaults are the benchmark's stated noise model."""

    rms_noise_rel: float = 2e-4  # gaussian, per VRMS/IRMS reading, relative
    power_noise_rel: float = 5e-4  # gaussian, per power reading, relative
    zx_jitter_s: float = 1e-6  # gaussian timing noise of each zero crossing
    clock_error_ppm: float = 20.0  # the crystal's frequency error (PERIOD counts run fast)
    gain_error: float = 1e-3  # residual board gain error after calibration

    def describe(self) -> str:
        return (f"VRMS noise {self.rms_noise_rel:.2%} rms/reading, power noise "
                f"{self.power_noise_rel:.2%} rms, ZX jitter {self.zx_jitter_s * 1e6:.1f} us rms, "
                f"PERIOD counter 223.75 kHz (4.47 us quantisation, reciprocal) with a "
                f"{self.clock_error_ppm:+.0f} ppm crystal, residual gain error "
                f"{self.gain_error:+.2%}, VRMS quantised to 1/26000 V")


@dataclass
class ScriptedGrid:
    """Voltage and frequency as functions of time; the phase follows the frequency exactly."""

    nominal_hz: float
    voltage: Callable[[float], float]
    f0_hz: float
    rocof_hz_per_s: float = 0.0
    ramp_start_s: float = 0.0
    ramp_end_s: float = math.inf
    jumps: list[tuple[float, float]] = field(default_factory=list)  # (time, degrees)

    def frequency(self, t: float) -> float:
        ramp_t = min(max(t - self.ramp_start_s, 0.0), self.ramp_end_s - self.ramp_start_s)
        return self.f0_hz + self.rocof_hz_per_s * ramp_t

    def cycles(self, t: float) -> float:
        """Exact cycles since t = 0 (integral of the frequency), plus phase jumps."""
        ramp_t = min(max(t - self.ramp_start_s, 0.0), self.ramp_end_s - self.ramp_start_s)
        after = max(t - self.ramp_end_s, 0.0)
        integral = self.f0_hz * t + 0.5 * self.rocof_hz_per_s * ramp_t ** 2
        integral += self.rocof_hz_per_s * (self.ramp_end_s - self.ramp_start_s) * after \
            if math.isfinite(self.ramp_end_s) else 0.0
        return integral + self.steps(t)

    def steps(self, t: float) -> float:
        """Cycles added by phase jumps up to ``t``."""
        return sum(deg / 360.0 for at, deg in self.jumps if t >= at)


class MeterRig:
    """Driver + register model + scripted grid on a tick clock."""

    def __init__(self, grid: ScriptedGrid, noise: NoiseModel, seed: int = 1,
                 wiring: MeterWiring | None = None) -> None:
        self.grid = grid
        self.t = 0.0
        self.wiring = wiring or MeterWiring()
        self.model = Ade7953Model(
            self.truth, self.wiring, np.random.default_rng(seed),
            rms_noise_rel=noise.rms_noise_rel, power_noise_rel=noise.power_noise_rel,
            gain_error=noise.gain_error, now=self.now,
            cycles=lambda: (grid.cycles(self.t), grid.steps(self.t)),
            zx_jitter_s=noise.zx_jitter_s, clock_error_ppm=noise.clock_error_ppm)
        self.smbus = SimSMBus(seed=seed + 1)
        self.smbus.add_device(self.wiring.address, self.model)
        self.bus = I2cBus(self.smbus, "bench-i2c")
        self.meter = Ade7953(self.bus, self.wiring, self.now)

    def now(self) -> float:
        return self.t

    def truth(self) -> MeterTruth:
        v = self.grid.voltage(self.t)
        f = self.grid.frequency(self.t) if v > 0.0 else 0.0
        return MeterTruth(v, f, 10.0, 2300.0, 100.0, 2.0, 460.0)

    def tick(self, dt: float = TICK_S) -> AcMeterReading:
        self.t += dt
        return self.meter.read()
