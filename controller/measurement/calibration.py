"""Per-channel calibration: compute from reference points, validate, apply. No I/O here.

A calibration maps what the controller measures (``raw``) to what a reference instrument says
(``corrected = gain * raw + offset``). One reference point gives a gain (offset 0); two give a
gain and an offset. A result is refused when it is implausible: a gain more than
``MAX_GAIN_DEVIATION`` (10 %) from 1, or an offset larger than ``MAX_OFFSET_FRACTION`` of the
largest reference value (a wiring fault or a typo, not a calibration). Persistence is
:mod:`controller.store.calibration_store`; the procedure is ``docs/measurement.md``.

The technician console calls :func:`calibrate` with points whose ``measured`` values are *raw*
(uncorrected); :meth:`CalibrationSet.raw` undoes the calibration in force when the console only
has corrected readings (a snapshot's values are corrected).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hal.errors import V2xError
from hal.interfaces.adc import Sample
from hal.interfaces.meter import AcMeterReading

MAX_GAIN_DEVIATION = 0.10
MAX_OFFSET_FRACTION = 0.10
MAX_POINTS = 2

# Meter channels: channel name -> (AcMeterReading field, unit).
METER_CHANNELS: dict[str, tuple[str, str]] = {
    "meter.voltage": ("voltage_rms_v", "V"),
    "meter.grid_current": ("grid_current_rms_a", "A"),
    "meter.grid_power": ("grid_power_w", "W"),
    "meter.grid_reactive": ("grid_reactive_var", "var"),
    "meter.pv_current": ("pv_current_rms_a", "A"),
    "meter.pv_power": ("pv_power_w", "W"),
}
ANALOG_PREFIX = "adc."  # "adc.<channel>" for every ADC channel (dc_link_v, temperatures, ...)


class CalibrationRefused(V2xError, ValueError):
    """The reference points are unusable or the result is implausible; nothing was changed."""


@dataclass(frozen=True, slots=True)
class ReferencePoint:
    """What the reference instrument read, and what the controller measured (raw) meanwhile."""

    reference: float
    measured: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """One channel's correction, with the reference it was made against and when."""

    channel: str
    gain: float
    offset: float
    reference: str  # the instrument, e.g. "Fluke 87V s/n 1234, cal. due 2027-03"
    date: str  # ISO 8601, when the calibration was made
    points: tuple[ReferencePoint, ...]

    def apply(self, raw: float) -> float:
        return self.gain * raw + self.offset

    def invert(self, corrected: float) -> float:
        return (corrected - self.offset) / self.gain


def check_channel(channel: str, analog_names: Iterable[str] = ()) -> None:
    """Raise :class:`CalibrationRefused` unless ``channel`` names a calibratable channel."""
    known = [*METER_CHANNELS, *(ANALOG_PREFIX + name for name in analog_names)]
    if channel in METER_CHANNELS:
        return
    if channel.startswith(ANALOG_PREFIX) and (not analog_names or channel in known):
        return
    raise CalibrationRefused(f"unknown channel {channel!r}; calibratable: {', '.join(known)}")


def compute_calibration(channel: str, points: Sequence[ReferencePoint], reference: str,
                        date: datetime) -> Calibration:
    """Gain (one point) or gain and offset (two points). Does not judge plausibility."""
    if not 1 <= len(points) <= MAX_POINTS:
        raise CalibrationRefused(f"{channel}: give 1 or 2 reference points, not {len(points)}")
    if not reference.strip():
        raise CalibrationRefused(f"{channel}: name the reference instrument")
    for p in points:
        if not (math.isfinite(p.reference) and math.isfinite(p.measured)):
            raise CalibrationRefused(f"{channel}: reference point {p} is not a finite number")
    if len(points) == 1:
        (p,) = points
        if p.measured == 0.0:
            raise CalibrationRefused(f"{channel}: a one-point calibration needs a non-zero "
                                     "measured value")
        gain, offset = p.reference / p.measured, 0.0
    else:
        p1, p2 = points
        if p2.measured == p1.measured:
            raise CalibrationRefused(f"{channel}: the two points have the same measured value "
                                     f"{p1.measured}; take them far apart")
        gain = (p2.reference - p1.reference) / (p2.measured - p1.measured)
        offset = p1.reference - gain * p1.measured
    return Calibration(channel, gain, offset, reference.strip(), date.isoformat(),
                       tuple(points))


def validate(cal: Calibration) -> None:
    """Raise :class:`CalibrationRefused` when ``cal`` is implausible (see the module doc)."""
    if not (math.isfinite(cal.gain) and math.isfinite(cal.offset)):
        raise CalibrationRefused(f"{cal.channel}: gain {cal.gain} / offset {cal.offset} is not "
                                 "finite")
    if abs(cal.gain - 1.0) > MAX_GAIN_DEVIATION:
        raise CalibrationRefused(
            f"{cal.channel}: gain {cal.gain:.4f} is {abs(cal.gain - 1.0):.1%} off 1 (at most "
            f"{MAX_GAIN_DEVIATION:.0%}); check the reference, the wiring and the scale settings")
    span = max((abs(p.reference) for p in cal.points), default=0.0)
    if abs(cal.offset) > MAX_OFFSET_FRACTION * span:
        raise CalibrationRefused(
            f"{cal.channel}: offset {cal.offset:.4g} exceeds {MAX_OFFSET_FRACTION:.0%} of the "
            f"largest reference value {span:.4g}; check the zero of the sensor")


def calibrate(channel: str, points: Sequence[ReferencePoint], reference: str, date: datetime,
              analog_names: Iterable[str] = ()) -> Calibration:
    """Check the channel, compute and validate: the one call the console needs before storing."""
    check_channel(channel, analog_names)
    cal = compute_calibration(channel, points, reference, date)
    validate(cal)
    return cal


class CalibrationSet:
    """The calibrations in force, by channel; corrects meter readings and ADC samples."""

    def __init__(self, calibrations: Iterable[Calibration] = ()) -> None:
        self._by_channel: dict[str, Calibration] = {c.channel: c for c in calibrations}

    @property
    def channels(self) -> Mapping[str, Calibration]:
        return dict(self._by_channel)

    def get(self, channel: str) -> Calibration | None:
        return self._by_channel.get(channel)

    def apply(self, channel: str, raw: float) -> float:
        cal = self._by_channel.get(channel)
        return raw if cal is None else cal.apply(raw)

    def raw(self, channel: str, corrected: float) -> float:
        """Undo the correction in force (the console calibrates on raw values)."""
        cal = self._by_channel.get(channel)
        return corrected if cal is None else cal.invert(corrected)

    def correct_meter(self, reading: AcMeterReading) -> AcMeterReading:
        changes: dict[str, Any] = {field: self.apply(channel, getattr(reading, field))
                   for channel, (field, _unit) in METER_CHANNELS.items()
                   if channel in self._by_channel}
        return dataclasses.replace(reading, **changes) if changes else reading

    def correct_sample(self, name: str, sample: Sample | None) -> Sample | None:
        cal = self._by_channel.get(ANALOG_PREFIX + name)
        if sample is None or cal is None:
            return sample
        return Sample(value=cal.apply(sample.value), t=sample.t)

    def __len__(self) -> int:
        return len(self._by_channel)
