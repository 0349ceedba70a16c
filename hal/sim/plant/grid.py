"""The utility: voltage, frequency, phase and the utility breaker.

A phase jump is a step of the voltage angle. Anything that measures frequency from the
waveform (the meter's zero-crossing period, the inverter's phase-locked loop) sees it as a
short frequency excursion: the one line cycle in which the step happens is longer or shorter
by the step's share of a turn (:attr:`UtilityGrid.apparent_frequency_hz`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

JUMP_WINDOW_CYCLES = 1.0


@dataclass
class Ramp:
    """A linear ramp of one quantity toward ``target`` at ``rate`` units per second."""

    target: float
    rate: float

    def step(self, value: float, dt: float) -> float:
        delta = self.target - value
        limit = abs(self.rate) * dt
        return self.target if abs(delta) <= limit else value + math.copysign(limit, delta)


class UtilityGrid:
    """A stiff utility source behind a breaker (opening it is an outage)."""

    def __init__(self, nominal_voltage_v: float, nominal_frequency_hz: float) -> None:
        self.nominal_voltage_v = nominal_voltage_v
        self.nominal_frequency_hz = nominal_frequency_hz
        self.voltage_pu = 1.0
        self.frequency_hz = nominal_frequency_hz
        self.phase_deg = 0.0
        self.breaker_closed = True
        self._voltage_ramp: Ramp | None = None
        self._frequency_ramp: Ramp | None = None
        self._jump_hz = 0.0  # the apparent frequency offset of a recent phase jump
        self._jump_left_s = 0.0

    @property
    def live(self) -> bool:
        return self.breaker_closed and self.voltage_pu > 0.0

    @property
    def voltage_v(self) -> float:
        return self.voltage_pu * self.nominal_voltage_v if self.breaker_closed else 0.0

    def set_voltage(self, pu: float, rate_pu_per_s: float | None = None) -> None:
        if rate_pu_per_s is None:
            self.voltage_pu, self._voltage_ramp = pu, None
        else:
            self._voltage_ramp = Ramp(pu, rate_pu_per_s)

    def set_frequency(self, hz: float, rate_hz_per_s: float | None = None) -> None:
        if rate_hz_per_s is None:
            self.frequency_hz, self._frequency_ramp = hz, None
        else:
            self._frequency_ramp = Ramp(hz, rate_hz_per_s)

    def jump_phase(self, degrees: float) -> None:
        self.phase_deg = (self.phase_deg + degrees) % 360.0
        window = JUMP_WINDOW_CYCLES / self.frequency_hz
        self._jump_hz = degrees / 360.0 / window
        self._jump_left_s = window

    @property
    def apparent_frequency_hz(self) -> float:
        """The frequency a waveform-based measurement reports (a phase jump included)."""
        return self.frequency_hz + (self._jump_hz if self._jump_left_s > 0.0 else 0.0)

    def step(self, dt: float) -> None:
        self._jump_left_s = max(0.0, self._jump_left_s - dt)
        if self._voltage_ramp is not None:
            self.voltage_pu = self._voltage_ramp.step(self.voltage_pu, dt)
        if self._frequency_ramp is not None:
            self.frequency_hz = self._frequency_ramp.step(self.frequency_hz, dt)
        self.phase_deg = (self.phase_deg + 360.0 * (self.frequency_hz
                                                   - self.nominal_frequency_hz) * dt) % 360.0
