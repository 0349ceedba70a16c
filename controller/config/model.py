"""The controller's config as frozen dataclasses: the single source for keys, units and ranges.

``docs/config.md`` is generated from these declarations (``v2xctl config doc``) and a test keeps it
in sync. Units are in key names; every leaf has a range or a set of choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.config_fields import section, setting
from hal.settings import HalSettings

GRID_NOMINAL_VOLTAGES_V = (120.0, 208.0, 230.0, 240.0)
GRID_FREQUENCIES_HZ = (50.0, 60.0)


@dataclass(frozen=True)
class ControlSettings:
    tick_s: float = setting(0.02, "control loop period; also the inverter command cycle",
                            unit="s", min=0.005, max=1.0)
    status_interval_s: float = setting(1.0, "period of the status line printed by `v2xctl run`",
                                       unit="s", min=0.1, max=60.0)


@dataclass(frozen=True)
class GridSettings:
    nominal_voltage_v: float = setting(240.0, "nominal voltage at the PCC (line to line for "
                                       "120/240 V split phase)", unit="V",
                                       choices=GRID_NOMINAL_VOLTAGES_V)
    nominal_frequency_hz: float = setting(60.0, "nominal grid frequency", unit="Hz",
                                          choices=GRID_FREQUENCIES_HZ)


@dataclass(frozen=True)
class ProtectionSettings:
    voltage_min_pu: float = setting(0.88, "below this the grid is abnormal: power stops",
                                    unit="p.u.", min=0.45, max=0.95)
    voltage_max_pu: float = setting(1.10, "above this the grid is abnormal: power stops",
                                    unit="p.u.", min=1.05, max=1.20)
    frequency_min_hz: float | None = setting(
        None, "below this the grid is abnormal (default: nominal - 1.5 Hz)", unit="Hz",
        min=45.0, max=59.9)
    frequency_max_hz: float | None = setting(
        None, "above this the grid is abnormal (default: nominal + 1.2 Hz)", unit="Hz",
        min=50.1, max=66.0)
    abnormal_trip_delay_s: float = setting(
        2.0, "how long the grid must stay abnormal before the grid-window trip", unit="s",
        min=0.0, max=300.0)
    inverter_status_timeout_s: float = setting(
        0.1, "inverter status older than this is stale: communication lost", unit="s",
        min=0.02, max=2.0)
    ev_report_timeout_s: float = setting(
        0.5, "EV frames older than this are stale: the EV is treated as gone", unit="s",
        min=0.1, max=5.0)
    sensor_max_age_s: float = setting(
        1.0, "meter and ADC values older than this are stale: sensor fault", unit="s",
        min=0.05, max=10.0)
    dc_overvoltage_margin_v: float = setting(
        10.0, "trip when the DC link exceeds the EV's maximum battery voltage by this much",
        unit="V", min=0.0, max=100.0)


    def frequency_window_hz(self, nominal_hz: float) -> tuple[float, float]:
        """The (low, high) frequency window, defaults derived from the nominal frequency."""
        low = self.frequency_min_hz if self.frequency_min_hz is not None else nominal_hz - 1.5
        high = self.frequency_max_hz if self.frequency_max_hz is not None else nominal_hz + 1.2
        return low, high


@dataclass(frozen=True)
class LimitSettings:
    max_charge_power_w: float = setting(11000.0, "configured charge power ceiling", unit="W",
                                        min=0.0, max=32000.0)
    max_discharge_power_w: float = setting(9000.0, "configured discharge power ceiling",
                                           unit="W", min=0.0, max=32000.0)
    cable_max_current_a: float = setting(125.0, "DC cable and inlet current rating", unit="A",
                                         min=1.0, max=250.0)
    ramp_rate_w_per_s: float = setting(2000.0, "how fast the power command may change",
                                       unit="W/s", min=10.0, max=50000.0)


@dataclass(frozen=True)
class InverterSettings:
    rated_power_w: float = setting(11000.0, "inverter continuous AC rating", unit="W",
                                   min=500.0, max=32000.0)
    max_dc_current_a: float = setting(125.0, "inverter DC current rating", unit="A", min=1.0,
                                      max=250.0)
    # The inverter's own protection and behaviour, written to it over CAN and read back before
    # the charger may energise (docs/inverter-protocol.md). Trip defaults: IEEE 1547-2018
    # Category II for a 60 Hz system; ranges: the standard's adjustment ranges (Tables 11-13
    # and 18, union over the categories).
    command_timeout_s: float = setting(
        0.1, "the inverter ceases when no valid command with an advancing alive counter arrived "
        "for this long (at least 2 x control.tick_s)", unit="s", min=0.02, max=10.0)
    ramp_rate_w_per_s: float = setting(
        20000.0, "the inverter's own limit on how fast its AC power may change", unit="W/s",
        min=100.0, max=65000.0)
    anti_islanding: bool = setting(
        True, "active anti-islanding in the inverter (IEEE 1547 requires it in every "
        "grid-parallel mode; false only for bench tests)")
    anti_islanding_gain: float = setting(
        0.05, "active anti-islanding positive-feedback gain (Sandia frequency shift K); "
        "4 x Qf / (pi x f0) is the least that removes the non-detection zone: 0.021 for "
        "Qf = 1 at 60 Hz", unit="1/Hz", min=0.02, max=0.2)
    ride_through_category: str = setting(
        "II", "IEEE 1547-2018 abnormal operating performance category (ride-through); the "
        "trip settings below are not derived from it", choices=("I", "II", "III"))
    ov2_pu: float = setting(
        1.2, "OV2 trip: the inverter ceases to energise and trips when the voltage stays above "
        "this", unit="p.u.", min=1.2, max=1.2)
    ov2_clearing_time_s: float = setting(
        0.16, "OV2 clearing time: from the start of the excursion to ceased and "
        "tripped (both fixed by IEEE 1547)", unit="s", min=0.16, max=0.16)
    ov1_pu: float = setting(
        1.1, "OV1 trip: the inverter ceases to energise and trips when the voltage stays above "
        "this", unit="p.u.", min=1.1, max=1.2)
    ov1_clearing_time_s: float = setting(
        2.0, "OV1 clearing time: from the start of the excursion to ceased and "
        "tripped", unit="s", min=1.0, max=13.0)
    uv1_pu: float = setting(
        0.7, "UV1 trip: the inverter ceases to energise and trips when the voltage stays below "
        "this", unit="p.u.", min=0.0, max=0.88)
    uv1_clearing_time_s: float = setting(
        10.0, "UV1 clearing time: from the start of the excursion to ceased and "
        "tripped (IEEE 1547: Category I/II 2-21 s, III 21-50 s)", unit="s", min=2.0, max=50.0)
    uv2_pu: float = setting(
        0.45, "UV2 trip: the inverter ceases to energise and trips when the voltage stays below "
        "this", unit="p.u.", min=0.0, max=0.5)
    uv2_clearing_time_s: float = setting(
        0.16, "UV2 clearing time: from the start of the excursion to ceased and "
        "tripped (IEEE 1547: Category I/II 0.16-2 s, III 2-21 s)", unit="s", min=0.16, max=21.0)
    of2_hz: float = setting(
        62.0, "OF2 trip: the inverter ceases to energise and trips when the frequency stays above "
        "this (the ranges are IEEE 1547's, for 60 Hz systems)", unit="Hz", min=61.8, max=66.0)
    of2_clearing_time_s: float = setting(
        0.16, "OF2 clearing time: from the start of the excursion to ceased and "
        "tripped", unit="s", min=0.16, max=1000.0)
    of1_hz: float = setting(
        61.2, "OF1 trip: the inverter ceases to energise and trips when the frequency stays above "
        "this (the ranges are IEEE 1547's, for 60 Hz systems)", unit="Hz", min=61.0, max=66.0)
    of1_clearing_time_s: float = setting(
        300.0, "OF1 clearing time: from the start of the excursion to ceased and "
        "tripped", unit="s", min=180.0, max=1000.0)
    uf1_hz: float = setting(
        58.5, "UF1 trip: the inverter ceases to energise and trips when the frequency stays below "
        "this (the ranges are IEEE 1547's, for 60 Hz systems)", unit="Hz", min=50.0, max=59.0)
    uf1_clearing_time_s: float = setting(
        300.0, "UF1 clearing time: from the start of the excursion to ceased and "
        "tripped", unit="s", min=180.0, max=1000.0)
    uf2_hz: float = setting(
        56.5, "UF2 trip: the inverter ceases to energise and trips when the frequency stays below "
        "this (the ranges are IEEE 1547's, for 60 Hz systems)", unit="Hz", min=50.0, max=57.0)
    uf2_clearing_time_s: float = setting(
        0.16, "UF2 clearing time: from the start of the excursion to ceased and "
        "tripped", unit="s", min=0.16, max=1000.0)


@dataclass(frozen=True)
class V2hSettings:
    import_target_w: float = setting(
        100.0, "grid import V2H aims for (small and positive so the home never exports)",
        unit="W", min=0.0, max=2000.0)
    reserve_soc_pct: float = setting(40.0, "V2H stops discharging at this EV state of charge",
                                     unit="%", min=5.0, max=95.0)
    reserve_hysteresis_pct: float = setting(
        2.0, "after stopping at the reserve, V2H resumes only above reserve + this", unit="%",
        min=0.5, max=20.0)
    follow_gain: float = setting(
        0.5, "fraction of the import error corrected per second (integral gain)", unit="1/s",
        min=0.05, max=20.0)


@dataclass(frozen=True)
class V2lSettings:
    rated_power_w: float = setting(3600.0, "the V2L outlet's rating (socket, cable, breaker)",
                                   unit="W", min=100.0, max=11000.0)
    overload_time_s: float = setting(
        2.0, "the outlet may exceed its rating this long before V2L stops (not a fault)",
        unit="s", min=0.1, max=30.0)


@dataclass(frozen=True)
class BackupSettings:
    enabled: bool = setting(True, "carry the home from the EV when the utility fails during v2h "
                            "(K_GRID opens first, then the inverter forms the home grid)")
    reserve_soc_pct: float = setting(
        30.0, "backup stops (the home goes dark) at this EV state of charge; below the "
        "discretionary reserve (v2h.reserve_soc_pct) so an outage may use more", unit="%",
        min=5.0, max=95.0)
    return_delay_s: float = setting(
        300.0, "the utility must stay inside its normal window this long before the home "
        "returns to it (IEEE 1547 enter-service delay; restarts on any excursion)", unit="s",
        min=0.0, max=900.0)
    sync_timeout_s: float = setting(
        30.0, "resynchronising to the returned utility may take this long; then the return "
        "falls back to an open transition (the home goes dark for a moment)", unit="s",
        min=1.0, max=300.0)


@dataclass(frozen=True)
class V2gSettings:
    default_export_w: float = setting(
        3000.0, "export power when a v2g request names none", unit="W", min=0.0,
        max=32000.0)


@dataclass(frozen=True)
class SequenceSettings:
    contactor_timeout_s: float = setting(
        0.5, "aux feedback must confirm a commanded contactor within this", unit="s",
        min=0.05, max=5.0)
    precharge_timeout_s: float = setting(3.0, "DC link must reach the EV voltage within this",
                                         unit="s", min=0.2, max=30.0)
    precharge_tolerance_v: float = setting(
        10.0, "DC link within this of the EV voltage counts as precharged", unit="V",
        min=1.0, max=50.0)
    open_below_current_a: float = setting(
        2.0, "ramp-down opens DC contactors only below this DC current", unit="A", min=0.1,
        max=20.0)
    rampdown_timeout_s: float = setting(
        5.0, "ramp-down opens anyway after this and records a hot open", unit="s", min=0.5,
        max=60.0)
    startup_request: str = setting(
        "idle", "mode requested at start-up (the technician or EMS may change it)",
        choices=("idle", "charge", "v2h", "v2g", "v2l"))


@dataclass(frozen=True)
class StoreSettings:
    path: str = setting(
        ":memory:", "SQLite file for the event log and latched faults (:memory: = not kept; "
        "real installs use /var/lib/v2x-controller/state.db)")


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    hal: HalSettings = section(HalSettings, "hardware backend and wiring")
    control: ControlSettings = section(ControlSettings, "control loop timing")
    grid: GridSettings = section(GridSettings, "the utility connection")
    protection: ProtectionSettings = section(ProtectionSettings, "protection thresholds")
    limits: LimitSettings = section(LimitSettings, "power and current limits")
    inverter: InverterSettings = section(InverterSettings, "the bidirectional inverter")
    v2h: V2hSettings = section(V2hSettings, "vehicle-to-home behaviour (its reserve SoC applies "
                               "to every discretionary discharge: v2h, v2g, v2l)")
    v2g: V2gSettings = section(V2gSettings, "vehicle-to-grid export")
    backup: BackupSettings = section(BackupSettings, "backup power through a utility outage")
    v2l: V2lSettings = section(V2lSettings, "vehicle-to-load outlet")
    sequence: SequenceSettings = section(SequenceSettings, "energise / de-energise sequencing")
    store: StoreSettings = section(StoreSettings, "persistent state")
