"""The planner's problem and its answer as plain, validated values (no solver, no I/O).

A :class:`Problem` is everything one plan needs over a horizon of ``n`` equal steps: the time
series (prices, PV, home load, temperature, whether the car is plugged in), the trips that take
it away, the battery and the limits. A :class:`Plan` is what the optimiser answers: one
:class:`Step` per interval with the mode and the power to ask the controller for, and the totals
the owner reads. Powers are kW (+ charge into the EV, - discharge), energies kWh, money in the
tariff's currency; every number is checked finite (``math.isfinite`` before any range) when the
value is built, so a NaN can never reach the solver.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gateway.planner.wear import WearModel

Array = npt.NDArray[np.float64]
STEP_H = 0.25  # 15-minute steps
MAX_STEPS = 4 * 24 * 366  # plans are 24-48 h; the benchmark's perfect foresight is a year


class PlannerInputError(ValueError):
    """An input the planner cannot use; the message names the input, the value and the rule."""


def finite(name: str, value: float, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a float, or PlannerInputError naming ``name`` (NaN/inf first, then range)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlannerInputError(f"{name} = {value!r}: must be a number")
    v = float(value)
    if not math.isfinite(v):
        raise PlannerInputError(f"{name} = {v}: must be a finite number")
    if lo is not None and v < lo:
        raise PlannerInputError(f"{name} = {v:g}: must be >= {lo:g}")
    if hi is not None and v > hi:
        raise PlannerInputError(f"{name} = {v:g}: must be <= {hi:g}")
    return v


def series(name: str, values: npt.ArrayLike, n: int, lo: float | None = None) -> Array:
    """A float series of length ``n``, every value finite (and >= ``lo`` when given)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise PlannerInputError(f"{name}: {arr.shape[0] if arr.ndim == 1 else arr.shape} values, "
                                f"the horizon has {n} steps")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise PlannerInputError(f"{name}[{i}] = {arr[i]}: must be a finite number")
    if lo is not None and (arr < lo).any():
        i = int(np.argmax(arr < lo))
        raise PlannerInputError(f"{name}[{i}] = {arr[i]:g}: must be >= {lo:g}")
    return arr


@dataclass(frozen=True, slots=True)
class Battery:
    """The EV's battery as the planner sees it (usable capacity, SoC in percent)."""

    capacity_kwh: float = 60.0
    reserve_pct: float = 30.0  # backup reserve: the plan never goes below it while plugged in
    max_soc_pct: float = 100.0  # the owner's ceiling (battery health)
    charge_efficiency: float = 0.93  # AC -> battery, one way
    discharge_efficiency: float = 0.93  # battery -> AC, one way

    def __post_init__(self) -> None:
        finite("battery.capacity_kwh", self.capacity_kwh, 1.0, 300.0)
        finite("battery.reserve_pct", self.reserve_pct, 0.0, 100.0)
        finite("battery.max_soc_pct", self.max_soc_pct, 10.0, 100.0)
        finite("battery.charge_efficiency", self.charge_efficiency, 0.5, 1.0)
        finite("battery.discharge_efficiency", self.discharge_efficiency, 0.5, 1.0)
        if self.reserve_pct > self.max_soc_pct:
            raise PlannerInputError(f"battery.reserve_pct = {self.reserve_pct:g} is above "
                                    f"battery.max_soc_pct = {self.max_soc_pct:g}")

    def kwh(self, pct: float) -> float:
        return self.capacity_kwh * pct / 100.0

    def pct(self, kwh: float) -> float:
        return 100.0 * kwh / self.capacity_kwh


@dataclass(frozen=True, slots=True)
class Limits:
    """Power limits (AC side, kW) and the owner's permissions."""

    max_charge_kw: float = 7.4
    max_discharge_kw: float = 7.4
    max_import_kw: float = 17.0  # the home's connection (main fuse, or a grid operator's cap)
    v2h_allowed: bool = True
    v2g_allowed: bool = False
    export_cap_kw: float = 0.0  # the most the EV may push into the grid (V2G only)

    def __post_init__(self) -> None:
        finite("limits.max_charge_kw", self.max_charge_kw, 0.0, 350.0)
        finite("limits.max_discharge_kw", self.max_discharge_kw, 0.0, 350.0)
        finite("limits.max_import_kw", self.max_import_kw, 0.0, 1000.0)
        finite("limits.export_cap_kw", self.export_cap_kw, 0.0, 350.0)


@dataclass(frozen=True, slots=True)
class Trip:
    """The car leaves at the start of step ``depart`` (SoC >= ``target_pct`` by then) and is
    back, ``energy_kwh`` lighter, at the start of step ``back`` (``back`` may be past the end)."""

    depart: int
    back: int
    target_pct: float
    energy_kwh: float

    def __post_init__(self) -> None:
        if self.depart < 0 or self.back <= self.depart:
            raise PlannerInputError(f"trip: departure step {self.depart} and return step "
                                    f"{self.back}: need 0 <= departure < return")
        finite("trip.target_pct", self.target_pct, 0.0, 100.0)
        finite("trip.energy_kwh", self.energy_kwh, 0.0, 300.0)


@dataclass(frozen=True, slots=True)
class Problem:
    """One planning problem over ``n`` steps of ``step_h`` hours from ``start``."""

    start: dt.datetime
    import_price: Array  # per kWh bought, any sign (negative prices are real)
    export_price: Array  # per kWh sold
    pv_kw: Array  # PV production forecast, >= 0
    load_kw: Array  # home load forecast (without the EV), >= 0
    soc_pct: float  # the EV's SoC now (ignored while it is away)
    plugged_now: bool
    trips: tuple[Trip, ...] = ()
    battery: Battery = field(default_factory=Battery)
    limits: Limits = field(default_factory=Limits)
    wear: WearModel = field(default_factory=WearModel)
    temperature_c: Array | None = None  # battery temperature forecast; None: the wear default
    import_cap_kw: Array | None = None  # a grid operator's per-step cap, None: the limit only
    step_h: float = STEP_H

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise PlannerInputError(f"start = {self.start.isoformat()}: needs a UTC offset")
        n = self.n
        if not 1 <= n <= MAX_STEPS:
            raise PlannerInputError(f"horizon: {n} steps, must be 1..{MAX_STEPS}")
        finite("step_h", self.step_h, 1 / 60, 1.0)
        series("import_price", self.import_price, n)
        series("export_price", self.export_price, n)
        series("pv_kw", self.pv_kw, n, 0.0)
        series("load_kw", self.load_kw, n, 0.0)
        if self.temperature_c is not None:
            series("temperature_c", self.temperature_c, n, -60.0)
        if self.import_cap_kw is not None:
            series("import_cap_kw", self.import_cap_kw, n, 0.0)
        finite("soc_pct", self.soc_pct, 0.0, 100.0)
        last = -1
        for trip in self.trips:
            if trip.depart <= last or trip.depart >= n:
                raise PlannerInputError(f"trips: departure step {trip.depart} overlaps the "
                                        f"previous trip or is past the horizon ({n} steps)")
            last = trip.back

    @property
    def n(self) -> int:
        return int(np.asarray(self.import_price).shape[0])

    def plugged(self) -> npt.NDArray[np.bool_]:
        """Whether the car is plugged in during each step."""
        mask = np.full(self.n, self.plugged_now, dtype=bool)
        for trip in self.trips:
            mask[trip.depart:min(trip.back, self.n)] = False
            if trip.back < self.n:
                mask[trip.back:] = True
        return mask

    def time(self, i: int) -> dt.datetime:
        return self.start + dt.timedelta(hours=self.step_h * i)


MODES = ("idle", "charge", "v2h", "v2g")


@dataclass(frozen=True, slots=True)
class Step:
    """One interval of a plan: what to ask the controller for, and what it is expected to do."""

    t: dt.datetime
    mode: str  # idle, charge, v2h or v2g (``MODES``)
    ev_kw: float  # + charge, - discharge (AC side)
    soc_pct: float  # at the end of the step
    grid_kw: float  # + import, - export
    import_price: float
    export_price: float
    cost: float  # money for the energy bought minus sold in this step
    wear_cost: float  # cycle + calendar wear in this step
    plugged: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """The optimiser's answer: its steps, totals and any reason the owner's wish was cut."""

    steps: tuple[Step, ...]
    energy_cost: float
    wear_cost: float
    solve_s: float
    notes: tuple[str, ...] = ()  # e.g. why a departure target cannot be met

    @property
    def total_cost(self) -> float:
        return self.energy_cost + self.wear_cost
