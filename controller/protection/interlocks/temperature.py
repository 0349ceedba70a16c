"""NTC temperatures: a derating ladder with hysteresis, then a stop; a broken sensor is a fault.

Per sensor (``inverter``, ``contactors``, ``inlet``), between its ``*_derate_c`` and ``*_stop_c``
the allowed power steps down 100 % -> 75 % -> 50 % -> 25 % (three equal bands); a step is left
only ``hysteresis_c`` below the temperature that entered it. At ``*_stop_c`` it trips
OVERTEMPERATURE (a STOP fault: ramp, open, latch; retried once cooled). An open or shorted NTC
is TEMP_SENSOR_FAULT, and a sensor whose reads fail for longer than
``protection.sensor_max_age_s`` is SENSOR_STALE: unknown is unsafe.
"""

from __future__ import annotations

from controller.config.safety_settings import TemperatureSettings
from controller.protection.interlocks.ntc import ntc_celsius
from controller.protection.monitor import Finding, ProtectionInput
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode

LADDER = (1.0, 0.75, 0.5, 0.25)  # allowed power fraction per derating level
STOP_LEVEL = len(LADDER)


class TemperatureMonitor:
    """Trips, the derating warnings, the power fraction, and each NTC's reading in degC (the
    sensors read this tick)."""

    def __init__(self, settings: TemperatureSettings, max_age_s: float, started_at: float) -> None:
        self._s = settings
        self._max_age = max_age_s
        self._level: dict[str, int] = {}
        self._good_at: dict[str, float] = {}
        self._ladders: dict[str, tuple[float, ...]] = {}
        self._started_at = started_at

    def _ladder(self, name: str) -> tuple[float, ...]:
        """Sensor ``name``'s ladder: entry ``level`` (1..STOP_LEVEL) is the temperature that
        enters that level; entry 0 is the stop setting as configured (the trip names it).
        Computed once per sensor (the settings are fixed); the search reads several a tick."""
        ladder = self._ladders.get(name)
        if ladder is None:
            derate = float(getattr(self._s, f"{name}_derate_c", self._s.inverter_derate_c))
            stop = float(getattr(self._s, f"{name}_stop_c", self._s.inverter_stop_c))
            band = (stop - derate) / (STOP_LEVEL - 1)
            ladder = self._ladders[name] = (
                stop, *(derate + (level - 1) * band for level in range(1, STOP_LEVEL + 1)))
        return ladder

    def _step_level(self, name: str, celsius: float, ladder: tuple[float, ...]) -> int:
        level = self._level.get(name, 0)
        while level < STOP_LEVEL and celsius >= ladder[level + 1]:
            level += 1
        while level > 0 and celsius < ladder[level] - self._s.hysteresis_c:
            level -= 1
        self._level[name] = level
        return level

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        trips: list[Trip] = []
        warnings: list[Trip] = []
        fraction = 1.0
        celsius: dict[str, float] = {}
        for name, ratio in snap.temperatures.items():
            if ratio is None:
                last = self._good_at.get(name, self._started_at)
                if snap.t - last > self._max_age:
                    trips.append(Trip(FaultCode.SENSOR_STALE, f"temperature {name}: no reading "
                                      f"for {snap.t - last:.2f} s", snap.t - last,
                                      self._max_age))
                continue
            self._good_at[name] = snap.t
            reading = ntc_celsius(ratio, self._s)
            if reading.celsius is None:
                trips.append(Trip(FaultCode.TEMP_SENSOR_FAULT, f"temperature {name}: NTC "
                                  f"{reading.fault} (divider ratio {ratio:.3f})", ratio))
                continue
            celsius[name] = reading.celsius
            ladder = self._ladder(name)
            level = self._step_level(name, reading.celsius, ladder)
            stop = ladder[0]
            if level >= STOP_LEVEL:
                trips.append(Trip(FaultCode.OVERTEMPERATURE, f"temperature {name} "
                                  f"{reading.celsius:.1f} degC at or above {stop:.0f} degC",
                                  reading.celsius, stop))
                fraction = 0.0
            elif level > 0:
                fraction = min(fraction, LADDER[level])
                warnings.append(Trip(FaultCode.TEMP_DERATING, f"temperature {name} "
                                     f"{reading.celsius:.1f} degC: power limited to "
                                     f"{LADDER[level]:.0%}", reading.celsius,
                                     ladder[level]))
        return Finding(tuple(trips), tuple(warnings), fraction, celsius)
