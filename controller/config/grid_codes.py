"""IEEE 1547-2018 tables: trip defaults and allowed ranges, ride-through, enter service.

The numbers are those of ``../shared/reference/grid-codes.md`` sections 1.1-1.5 (Tables 11-13,
18 and 21 of IEEE 1547-2018, Table 11 of IEEE 1547.1-2020). Voltages are per unit of the nominal
voltage, so one table serves 120/240 V split phase, 208 V and 230 V. Frequencies are written for
60 Hz; a 50 Hz system uses the same deviations in Hz from nominal (60 Hz table shifted by -10 Hz;
IEEE 1547 itself is written for 60 Hz only), with the lower ends of the ranges clamped at
45 Hz, the lowest threshold the inverter's settings frames carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Category = Literal["I", "II", "III"]
CATEGORIES: Final = ("I", "II", "III")
ELEMENTS: Final = ("ov2", "ov1", "uv1", "uv2", "of2", "of1", "uf1", "uf2")
FRAME_MIN_HZ: Final = 45.0  # INV_SET_FREQ thresholds: 45..66 Hz


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low - 1e-9 <= value <= self.high + 1e-9


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One trip element's default (threshold, clearing time) and allowed ranges."""

    threshold: float
    clearing_time_s: float
    threshold_range: Range
    time_range: Range


# --- Tables 11-13: voltage trips (p.u., s) ---------------------------------------------------
_OV2 = ElementSpec(1.20, 0.16, Range(1.20, 1.20), Range(0.16, 0.16))
_UV1_T_I_II = Range(2.0, 21.0)
_UV2_T_I_II = Range(0.16, 2.0)
VOLTAGE_TRIPS: Final[dict[str, dict[str, ElementSpec]]] = {
    "I": {"ov2": _OV2,
          "ov1": ElementSpec(1.10, 2.0, Range(1.10, 1.20), Range(1.0, 13.0)),
          "uv1": ElementSpec(0.70, 2.0, Range(0.0, 0.88), _UV1_T_I_II),
          "uv2": ElementSpec(0.45, 0.16, Range(0.0, 0.50), _UV2_T_I_II)},
    "II": {"ov2": _OV2,
           "ov1": ElementSpec(1.10, 2.0, Range(1.10, 1.20), Range(1.0, 13.0)),
           "uv1": ElementSpec(0.70, 10.0, Range(0.0, 0.88), _UV1_T_I_II),
           "uv2": ElementSpec(0.45, 0.16, Range(0.0, 0.50), _UV2_T_I_II)},
    "III": {"ov2": _OV2,
            "ov1": ElementSpec(1.10, 13.0, Range(1.10, 1.20), Range(1.0, 13.0)),
            "uv1": ElementSpec(0.88, 21.0, Range(0.0, 0.88), Range(21.0, 50.0)),
            "uv2": ElementSpec(0.50, 2.0, Range(0.0, 0.50), Range(2.0, 21.0))},
}

# --- Table 18: frequency trips, 60 Hz (same for every category) -------------------------------
FREQUENCY_TRIPS_60: Final[dict[str, ElementSpec]] = {
    "of2": ElementSpec(62.0, 0.16, Range(61.8, 66.0), Range(0.16, 1000.0)),
    "of1": ElementSpec(61.2, 300.0, Range(61.0, 66.0), Range(180.0, 1000.0)),
    "uf1": ElementSpec(58.5, 300.0, Range(50.0, 59.0), Range(180.0, 1000.0)),
    "uf2": ElementSpec(56.5, 0.16, Range(50.0, 57.0), Range(0.16, 1000.0)),
}


def _shift(spec: ElementSpec, offset_hz: float) -> ElementSpec:
    low = max(FRAME_MIN_HZ, spec.threshold_range.low + offset_hz)
    return ElementSpec(spec.threshold + offset_hz, spec.clearing_time_s,
                       Range(low, spec.threshold_range.high + offset_hz), spec.time_range)


def frequency_trips(nominal_hz: float) -> dict[str, ElementSpec]:
    offset = nominal_hz - 60.0
    return {name: _shift(spec, offset) for name, spec in FREQUENCY_TRIPS_60.items()}


def element_specs(category: str, nominal_hz: float) -> dict[str, ElementSpec]:
    """All eight elements for a category and nominal frequency, in :data:`ELEMENTS` order."""
    table = {**VOLTAGE_TRIPS[category], **frequency_trips(nominal_hz)}
    return {name: table[name] for name in ELEMENTS}


@dataclass(frozen=True, slots=True)
class TripElement:
    name: str  # "ov2" ...
    over: bool  # True: trips above the threshold; False: below
    voltage: bool  # True: p.u. voltage; False: frequency in Hz
    threshold: float
    clearing_time_s: float

    @property
    def label(self) -> str:
        return self.name.upper()

    def outside(self, voltage_pu: float, frequency_hz: float) -> bool:
        value = voltage_pu if self.voltage else frequency_hz
        return value > self.threshold if self.over else value < self.threshold


def resolve_trips(category: str, nominal_hz: float,
                  overrides: Mapping[str, float | None]) -> tuple[TripElement, ...]:
    """The eight elements in effect: the category's defaults, each overridden where set.

    ``overrides`` maps ``"ov1_pu"`` / ``"ov1_hz"`` / ``"ov1_clearing_time_s"`` style keys to a
    value or None (None: the default).
    """
    out: list[TripElement] = []
    for name, spec in element_specs(category, nominal_hz).items():
        voltage = name[1] == "v"
        unit_key = f"{name}_pu" if voltage else f"{name}_hz"
        threshold = overrides.get(unit_key)
        clearing = overrides.get(f"{name}_clearing_time_s")
        out.append(TripElement(
            name, name[0] == "o", voltage,
            spec.threshold if threshold is None else threshold,
            spec.clearing_time_s if clearing is None else clearing))
    return tuple(out)


def trip_range_problems(section: str, category: str, nominal_hz: float,
                        overrides: Mapping[str, float | None]) -> list[str]:
    """One line per override outside the standard's range for this category and frequency."""
    problems: list[str] = []
    where = f"IEEE 1547-2018 Category {category}, {nominal_hz:g} Hz"
    for name, spec in element_specs(category, nominal_hz).items():
        voltage = name[1] == "v"
        unit = "p.u." if voltage else "Hz"
        checks = ((f"{name}_pu" if voltage else f"{name}_hz", spec.threshold_range, unit),
                  (f"{name}_clearing_time_s", spec.time_range, "s"))
        for key, allowed, key_unit in checks:
            value = overrides.get(key)
            if value is not None and not allowed.holds(value):
                problems.append(
                    f"{section}.{key} = {value:g}: outside the allowed range "
                    f"{allowed.low:g} to {allowed.high:g} {key_unit} ({where})")
    return problems


# --- Ride-through (section 1.3 / 1.4) ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VoltageRegion:
    """``low < V <= high`` (p.u.): what the DER must do and for at least how long."""

    low: float
    high: float
    mode: str  # continuous / mandatory / permissive / momentary_cessation / cease
    min_time_s: float  # inf for continuous; 0 for cease


INF: Final = float("inf")
CONTINUOUS_LOW_PU: Final = 0.88
VOLTAGE_RIDE_THROUGH: Final[dict[str, tuple[VoltageRegion, ...]]] = {
    "I": (VoltageRegion(1.20, INF, "cease", 0.0),
          VoltageRegion(1.175, 1.20, "permissive", 0.2),
          VoltageRegion(1.15, 1.175, "permissive", 0.5),
          VoltageRegion(1.10, 1.15, "permissive", 1.0),
          VoltageRegion(0.88, 1.10, "continuous", INF),
          VoltageRegion(0.70, 0.88, "mandatory", 0.7),  # 0.7 s + 4 s/p.u. x (V - 0.70)
          VoltageRegion(0.50, 0.70, "permissive", 0.16),
          VoltageRegion(-INF, 0.50, "cease", 0.0)),
    "II": (VoltageRegion(1.20, INF, "cease", 0.0),
           VoltageRegion(1.175, 1.20, "permissive", 0.2),
           VoltageRegion(1.15, 1.175, "permissive", 0.5),
           VoltageRegion(1.10, 1.15, "permissive", 1.0),
           VoltageRegion(0.88, 1.10, "continuous", INF),
           VoltageRegion(0.65, 0.88, "mandatory", 3.0),  # 3 s + 8.7 s/p.u. x (V - 0.65)
           VoltageRegion(0.45, 0.65, "permissive", 0.32),
           VoltageRegion(0.30, 0.45, "permissive", 0.16),
           VoltageRegion(-INF, 0.30, "cease", 0.0)),
    "III": (VoltageRegion(1.20, INF, "cease", 0.0),
            VoltageRegion(1.10, 1.20, "momentary_cessation", 12.0),
            VoltageRegion(0.88, 1.10, "continuous", INF),
            VoltageRegion(0.70, 0.88, "mandatory", 20.0),
            VoltageRegion(0.50, 0.70, "mandatory", 10.0),
            VoltageRegion(-INF, 0.50, "momentary_cessation", 1.0)),
}
# Sloped minimum times of the mandatory regions (s per p.u. above the region's low end).
MANDATORY_SLOPE_S_PER_PU: Final = {"I": 4.0, "II": 8.7, "III": 0.0}


def voltage_region(category: str, voltage_pu: float) -> VoltageRegion:
    """The ride-through region a voltage falls in (the boundaries belong to the inner region)."""
    for region in VOLTAGE_RIDE_THROUGH[category]:
        if region.mode == "continuous":
            inside = region.low <= voltage_pu <= region.high
        elif region.high <= CONTINUOUS_LOW_PU + 1e-9:
            inside = region.low <= voltage_pu < region.high
        else:
            inside = region.low < voltage_pu <= region.high
        if inside:
            return region
    return VOLTAGE_RIDE_THROUGH[category][-1]


def ride_through_time_s(category: str, voltage_pu: float) -> float:
    """The least time the DER must ride through at this voltage (inf: indefinitely)."""
    region = voltage_region(category, voltage_pu)
    if region.mode == "mandatory":
        return region.min_time_s + MANDATORY_SLOPE_S_PER_PU[category] * (voltage_pu - region.low)
    return region.min_time_s


# Frequency ride-through at 60 Hz: continuous 58.8-61.2 Hz; mandatory 57.0-58.8 and
# 61.2-61.8 Hz for at least 299 s; beyond, no requirement. Offsets from nominal:
FREQ_CONTINUOUS_HZ: Final = (-1.2, 1.2)
FREQ_MANDATORY_HZ: Final = (-3.0, 1.8)
FREQ_MANDATORY_TIME_S: Final = 299.0
ROCOF_RIDE_THROUGH_HZ_PER_S: Final = {"I": 0.5, "II": 2.0, "III": 3.0}
PHASE_JUMP_BALANCED_DEG: Final = 20.0
PHASE_JUMP_SINGLE_PHASE_DEG: Final = 60.0


def frequency_mode(nominal_hz: float, frequency_hz: float) -> str:
    dev = frequency_hz - nominal_hz
    if FREQ_CONTINUOUS_HZ[0] <= dev <= FREQ_CONTINUOUS_HZ[1]:
        return "continuous"
    if FREQ_MANDATORY_HZ[0] <= dev <= FREQ_MANDATORY_HZ[1]:
        return "mandatory"
    return "no requirement"


# --- Enter service (section 1.5), offsets from nominal for frequency ---------------------------
ENTER_SERVICE_V_LOW: Final = ElementSpec(0.917, 0.0, Range(0.88, 0.95), Range(0.0, 0.0))
ENTER_SERVICE_V_HIGH: Final = ElementSpec(1.05, 0.0, Range(1.05, 1.06), Range(0.0, 0.0))
ENTER_SERVICE_F_LOW_OFFSET: Final = (-0.5, Range(-1.0, -0.1))
ENTER_SERVICE_F_HIGH_OFFSET: Final = (0.1, Range(0.1, 1.0))
