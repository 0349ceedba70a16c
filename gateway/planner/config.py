"""The planner's TOML file: every section checked at load, unknown keys are errors.

Sections (docs/planner.md lists every key with its unit and default): ``[planner]`` (horizon,
re-plan interval, lease, time zone), ``[battery]``, ``[limits]``, ``[wear]``, ``[tariff]``
(``kind = "tou"`` with ``[[tariff.period]]`` rows, or ``kind = "dynamic"`` with a price
``file``), ``[pv]``, ``[load]`` and ``[departures]``. Relative file names are relative to the
TOML file.
"""

from __future__ import annotations

import dataclasses
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from gateway.planner.departures import DeparturePlan, departures_from_table
from gateway.planner.model import Battery, Limits, PlannerInputError, finite
from gateway.planner.tariffs import DynamicPrices, TouTariff, read_dynamic, tou_from_table
from gateway.planner.wear import WearInputError, WearModel

T = TypeVar("T")
SECTIONS = {"planner", "battery", "limits", "wear", "tariff", "pv", "load", "departures"}


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    horizon_h: float = 48.0
    replan_s: float = 900.0  # re-plan every 15 minutes (and at once on events)
    lease_s: float = 120.0  # the client renews it; a dead gateway's claim lapses after this
    timezone: str = "UTC"
    pv_scenarios: bool = False  # plan on the measured days as PV scenarios (docs/planner.md)
    # a PV surplus the plan did not forecast goes into the car, as far as the plan buys that
    # energy dearer later (docs/planner.md, "Carrying the plan out"); false: it is exported
    absorb_surplus: bool = True
    # a dynamic tariff past its published prices: each interval priced as the same time of the
    # last published day (docs/planner.md, part 4); false: the horizon ends with the prices
    price_persistence: bool = True

    def __post_init__(self) -> None:
        finite("planner.horizon_h", self.horizon_h, 1.0, 168.0)
        finite("planner.replan_s", self.replan_s, 60.0, 3600.0)
        finite("planner.lease_s", self.lease_s, 10.0, 300.0)  # the socket's own range
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise PlannerInputError(f"planner.timezone = {self.timezone!r}: not a known IANA "
                                    "time zone (e.g. Europe/Brussels)") from None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class PvSettings:
    kwp: float = 0.0  # 0: no PV
    latitude: float = 50.8
    longitude: float = 4.4
    forecast_file: Path | None = None  # CSV start,pv_kw; None: clear sky x persistence

    def __post_init__(self) -> None:
        finite("pv.kwp", self.kwp, 0.0, 100.0)
        finite("pv.latitude", self.latitude, -90.0, 90.0)
        finite("pv.longitude", self.longitude, -180.0, 180.0)


@dataclass(frozen=True, slots=True)
class LoadSettings:
    kwh_per_day: float = 9.6  # the fallback profile's daily energy
    forecast_file: Path | None = None  # CSV start,load_kw; None: learned history, then fallback

    def __post_init__(self) -> None:
        finite("load.kwh_per_day", self.kwh_per_day, 0.0, 500.0)


@dataclass(frozen=True, slots=True)
class PlannerConfig:
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    battery: Battery = field(default_factory=Battery)
    limits: Limits = field(default_factory=Limits)
    wear: WearModel = field(default_factory=WearModel)
    tariff: TouTariff | DynamicPrices | None = None
    pv: PvSettings = field(default_factory=PvSettings)
    load: LoadSettings = field(default_factory=LoadSettings)
    departures: DeparturePlan = field(default_factory=lambda: DeparturePlan({}, {}))


def _build(cls: type[T], name: str, table: object, base: Path) -> T:
    """A dataclass from a TOML table: unknown keys, wrong types and ranges are errors."""
    if not isinstance(table, dict):
        raise PlannerInputError(f"[{name}]: must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(table) - set(fields)
    if unknown:
        raise PlannerInputError(f"[{name}]: unknown key(s) {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(fields)})")
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        default = fields[key].default
        where = f"{name}.{key}"
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise PlannerInputError(f"{where} = {value!r}: must be true or false")
        elif key.endswith("_file"):
            if not isinstance(value, str) or not value:
                raise PlannerInputError(f"{where} = {value!r}: must be a file name")
            value = base / value
        elif key == "calendar_fade":
            if not isinstance(value, list) or not all(
                    isinstance(p, list) and len(p) == 2 for p in value):
                raise PlannerInputError(f"{where}: a list of [soc_pct, pct_per_year] pairs")
            value = tuple((finite(where, p[0]), finite(where, p[1])) for p in value)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise PlannerInputError(f"{where} = {value!r}: must be a string")
        else:
            value = finite(where, value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except WearInputError as err:
        raise PlannerInputError(str(err)) from None


def _tariff(table: object, base: Path) -> TouTariff | DynamicPrices:
    if not isinstance(table, dict):
        raise PlannerInputError("[tariff]: must be a table")
    kind = table.get("kind")
    if kind == "tou":
        unknown = set(table) - {"kind", "period", "holidays", "export_price", "currency"}
        if unknown:
            raise PlannerInputError(f"[tariff]: unknown key(s) {', '.join(sorted(unknown))}")
        return tou_from_table(table)
    if kind == "dynamic":
        unknown = set(table) - {"kind", "file", "export_price", "currency"}
        if unknown:
            raise PlannerInputError(f"[tariff]: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(table.get("file"), str):
            raise PlannerInputError("tariff.file: the price file's name (CSV)")
        export = table.get("export_price")
        return read_dynamic(base / str(table["file"]),
                            None if export is None else finite("tariff.export_price", export))
    raise PlannerInputError(f"tariff.kind = {kind!r}: \"tou\" or \"dynamic\"")


def parse(data: Mapping[str, Any], base: Path) -> PlannerConfig:
    unknown = set(data) - SECTIONS
    if unknown:
        raise PlannerInputError(f"unknown section(s) {', '.join(sorted(unknown))} "
                                f"(known: {', '.join(sorted(SECTIONS))})")
    return PlannerConfig(
        planner=_build(PlannerSettings, "planner", data.get("planner", {}), base),
        battery=_build(Battery, "battery", data.get("battery", {}), base),
        limits=_build(Limits, "limits", data.get("limits", {}), base),
        wear=_build(WearModel, "wear", data.get("wear", {}), base),
        tariff=_tariff(data["tariff"], base) if "tariff" in data else None,
        pv=_build(PvSettings, "pv", data.get("pv", {}), base),
        load=_build(LoadSettings, "load", data.get("load", {}), base),
        departures=departures_from_table(data.get("departures", {})),
    )


def load(path: Path) -> PlannerConfig:
    """The planner config from ``path``; PlannerInputError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise PlannerInputError(f"{path}: cannot read: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise PlannerInputError(f"{path}: not valid TOML: {err}") from err
    try:
        return parse(data, path.parent)
    except PlannerInputError as err:
        raise PlannerInputError(f"{path}: {err}") from None
