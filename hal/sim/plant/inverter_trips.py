"""The simulated inverter's own voltage and frequency trips, run with the settings it was sent.

Each of the eight IEEE 1547-2018 elements (OV2, OV1, UV1, UV2, OF2, OF1, UF1, UF2) trips when
its condition has held for its clearing time, measured at the inverter's AC terminals while the
inverter runs grid-following. A trip makes the power stage cease and report the matching
FaultWord bit (AC over/under-voltage, AC frequency), as the controller expects. Without applied
settings the inverter runs no trips (a factory inverter waits to be configured).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hal.protocols.inverter_messages import InverterSettings

FAULT_AC_OVERVOLTAGE = 1 << 3  # FaultWord bits (hal/protocols/inverter.dbc)
FAULT_AC_UNDERVOLTAGE = 1 << 4
FAULT_AC_FREQUENCY = 1 << 5
FAULT_ISLANDING = 1 << 7
# The firmware's island detector (with the active frequency shift): the frequency is outside
# the band IEEE 1547 asks to ride through (nominal -3.0 / +1.8 Hz) and still running away faster
# than any grid ROCOF the charger must ride through (3 Hz/s, with margin), for two line cycles.
# A step of the utility's frequency moves it only once, a utility ramp too slowly: no trip.
# Beyond the measurement range (nominal -10 / +6 Hz) the phase-locked loop cannot follow: cease.
ISLAND_BAND_HZ = (-3.0, 1.8)
ISLAND_RUNAWAY_HZ_PER_S = 4.0
ISLAND_RATE_WINDOW_S = 0.01
ISLAND_CONFIRM_S = 0.035
MEASUREMENT_RANGE_HZ = (-10.0, 6.0)
PLL_TAU_CYCLES = 3.0  # band and range on the phase-locked loop's frequency; the runaway rate on
# the cycle-by-cycle frequency, which a step or a phase jump moves only once


@dataclass(frozen=True, slots=True)
class Element:
    """One trip element: its condition holds while the voltage (p.u., ``on_voltage``) or the
    frequency (Hz) is at or above ``limit`` (``above``), or below it."""

    name: str
    fault_bit: int
    on_voltage: bool
    above: bool
    limit: float
    clearing_time_s: float

    def outside(self, voltage_pu: float, frequency_hz: float) -> bool:
        """The condition holds (``InverterTrips.update`` evaluates the same inline)."""
        value = voltage_pu if self.on_voltage else frequency_hz
        return value >= self.limit if self.above else value < self.limit


def elements(s: InverterSettings) -> tuple[Element, ...]:
    return (
        Element("OV2", FAULT_AC_OVERVOLTAGE, True, True, s.ov2_pu, s.ov2_clearing_time_s),
        Element("OV1", FAULT_AC_OVERVOLTAGE, True, True, s.ov1_pu, s.ov1_clearing_time_s),
        Element("UV1", FAULT_AC_UNDERVOLTAGE, True, False, s.uv1_pu, s.uv1_clearing_time_s),
        Element("UV2", FAULT_AC_UNDERVOLTAGE, True, False, s.uv2_pu, s.uv2_clearing_time_s),
        Element("OF2", FAULT_AC_FREQUENCY, False, True, s.of2_hz, s.of2_clearing_time_s),
        Element("OF1", FAULT_AC_FREQUENCY, False, True, s.of1_hz, s.of1_clearing_time_s),
        Element("UF1", FAULT_AC_FREQUENCY, False, False, s.uf1_hz, s.uf1_clearing_time_s),
        Element("UF2", FAULT_AC_FREQUENCY, False, False, s.uf2_hz, s.uf2_clearing_time_s),
    )


class InverterTrips:
    """Per-element timers; ``update`` returns the fault bits of the elements that tripped."""

    def __init__(self) -> None:
        self._settings: InverterSettings | None = None
        self._elements: tuple[Element, ...] = ()
        self._since: dict[str, float] = {}
        self.tripped: list[tuple[float, str]] = []
        self._island_since: float | None = None
        self._history: deque[tuple[float, float]] = deque(maxlen=16)
        self._pll_hz: float | None = None

    def configure(self, settings: InverterSettings | None) -> None:
        if settings is not self._settings and settings != self._settings:  # same object: skip
            self._settings = settings
            self._elements = elements(settings) if settings is not None else ()
            self._since.clear()

    def reset(self) -> None:
        self._since.clear()
        self._island_since = None
        self._history.clear()
        self._pll_hz = None

    def islanding(self, now: float, frequency_hz: float, nominal_hz: float) -> int:
        """The active method's detector: FAULT_ISLANDING once the frequency has run out of the
        ride-through band (call only while the anti-islanding shift is active)."""
        previous = self._history[-1][0] if self._history else now
        pll = frequency_hz if self._pll_hz is None else self._pll_hz
        pll += (frequency_hz - pll) * min(1.0, (now - previous) * nominal_hz / PLL_TAU_CYCLES)
        self._pll_hz = pll
        history = self._history
        history.append((now, frequency_hz))
        while len(history) > 2 and now - history[1][0] >= ISLAND_RATE_WINDOW_S - 1e-9:
            history.popleft()
        then, f_then = history[0]
        rate = (frequency_hz - f_then) / (now - then) if now > then else 0.0
        dev = pll - nominal_hz
        if not MEASUREMENT_RANGE_HZ[0] <= dev <= MEASUREMENT_RANGE_HZ[1]:
            return self._island_trip(now)
        running = (not ISLAND_BAND_HZ[0] <= dev <= ISLAND_BAND_HZ[1]
                   and rate * dev > 0.0 and abs(rate) > ISLAND_RUNAWAY_HZ_PER_S)
        if not running:
            self._island_since = None
            return 0
        if self._island_since is None:
            self._island_since = now
        if now - self._island_since >= ISLAND_CONFIRM_S - 1e-9:
            return self._island_trip(now)
        return 0

    def _island_trip(self, now: float) -> int:
        self.tripped.append((now, "ISLANDING"))
        self._island_since = None
        self._history.clear()
        return FAULT_ISLANDING

    def update(self, now: float, voltage_pu: float, frequency_hz: float,
               sample_s: float = 0.0) -> int:
        """Run the elements on one sample. ``sample_s`` is the plant step: an excursion is
        first seen one sample after it began, so each timer ends one sample early and the
        clearing time (from the excursion to ceased) is met, not overrun."""
        bits = 0
        timers = self._since
        for element in self._elements:
            value = voltage_pu if element.on_voltage else frequency_hz  # element.outside()
            if not (value >= element.limit if element.above else value < element.limit):
                if element.name in timers:
                    del timers[element.name]
                continue
            since = timers.setdefault(element.name, now)
            if now - since >= element.clearing_time_s - sample_s - 1e-9:
                bits |= element.fault_bit
                self.tripped.append((now, element.name))
                del timers[element.name]
        return bits
