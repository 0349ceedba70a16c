"""The controller's config as frozen dataclasses: the single source for keys, units and ranges.

``docs/config.md`` is generated from these declarations (``v2xctl config doc``) and a test keeps it
in sync. Units are in key names; every leaf has a range or a set of choices.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from controller.config.der_settings import FrequencyDroopSettings, ReactivePowerSettings
from controller.config.ev_settings import EvSettings
from controller.config.safety_settings import SafetySettings
from controller.control_socket.settings import ControlSocketSettings
from controller.vocabulary import RequestMode
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
    status_log_interval_s: float = setting(
        600.0, "period of the status line when stdout is the systemd journal (or a unit's "
        "output file): the journal keeps every line; systemctl status shows the live line",
        unit="s", min=10.0, max=86400.0)


@dataclass(frozen=True)
class GridSettings:
    nominal_voltage_v: float = setting(240.0, "nominal voltage at the PCC (line to line for "
                                       "120/240 V split phase)", unit="V",
                                       choices=GRID_NOMINAL_VOLTAGES_V)
    nominal_frequency_hz: float = setting(60.0, "nominal grid frequency", unit="Hz",
                                          choices=GRID_FREQUENCIES_HZ)


@dataclass(frozen=True)
class ProtectionSettings:
    voltage_min_pu: float = setting(
        0.88, "v2g export window: below this v2g export stops (never inside IEEE 1547 "
        "ride-through)", unit="p.u.", min=0.45, max=0.95)
    voltage_max_pu: float = setting(
        1.10, "v2g export window: above this v2g export stops (never inside IEEE 1547 "
        "ride-through)", unit="p.u.", min=1.05, max=1.20)
    frequency_min_hz: float | None = setting(
        None, "v2g export window: below this v2g export stops (default: nominal - 1.5 Hz)",
        unit="Hz", min=45.0, max=59.9)
    frequency_max_hz: float | None = setting(
        None, "v2g export window: above this v2g export stops (default: nominal + 1.2 Hz)",
        unit="Hz", min=50.1, max=66.0)
    abnormal_trip_delay_s: float = setting(
        2.0, "how long the grid must stay outside the v2g export window before export stops",
        unit="s", min=0.0, max=300.0)
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
    ramp_rate_w_per_s: float = setting(2000.0, "how fast the power command may rise "
                                       "(reductions toward zero follow at "
                                       "inverter.ramp_rate_w_per_s)",
                                       unit="W/s", min=10.0, max=50000.0)


@dataclass(frozen=True)
class InverterSettings:
    rated_power_w: float = setting(11000.0, "inverter continuous AC rating", unit="W",
                                   min=500.0, max=32000.0)
    max_dc_current_a: float = setting(125.0, "inverter DC current rating", unit="A", min=1.0,
                                      max=250.0)
    # The inverter's own protection and behaviour, written to it over CAN and read back before
    # the charger may energise (docs/inverter-protocol.md). Trip settings left unset take the
    # IEEE 1547-2018 defaults of ride_through_category at grid.nominal_frequency_hz; the
    # ranges here are the union over categories and frequencies, and rules.py checks each
    # override against its own category's range (controller/config/grid_codes.py).
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
        0.1, "active anti-islanding positive-feedback gain (Sandia frequency shift K); "
        "4 x Qf / (pi x f0) is the least that removes the non-detection zone for loads up to "
        "Qf = 2.5: 0.054 at 60 Hz, 0.064 at 50 Hz (a lower gain is refused)", unit="1/Hz",
        min=0.02, max=0.2)
    ride_through_category: str = setting(
        "II", "IEEE 1547-2018 abnormal operating performance category: ride-through and the "
        "defaults and allowed ranges of the trip settings below", choices=("I", "II", "III"))
    ov2_pu: float | None = setting(
        None, "OV2 trip: the inverter ceases to energise and trips when the voltage stays above "
        "this (default: the category's IEEE 1547-2018 value; fixed 1.2)", unit="p.u.",
        min=1.2, max=1.2)
    ov2_clearing_time_s: float | None = setting(
        None, "OV2 clearing time: from the start of the excursion to ceased and "
        "tripped (fixed 0.16 s)", unit="s", min=0.16, max=0.16)
    ov1_pu: float | None = setting(
        None, "OV1 trip threshold (default: the category's, 1.10; allowed 1.10-1.20)",
        unit="p.u.", min=1.1, max=1.2)
    ov1_clearing_time_s: float | None = setting(
        None, "OV1 clearing time (default: Category I/II 2 s, III 13 s; allowed 1-13 s)",
        unit="s", min=1.0, max=13.0)
    uv1_pu: float | None = setting(
        None, "UV1 trip threshold (default: Category I/II 0.70, III 0.88; allowed 0-0.88)",
        unit="p.u.", min=0.0, max=0.88)
    uv1_clearing_time_s: float | None = setting(
        None, "UV1 clearing time (default: Category I 2 s, II 10 s, III 21 s; allowed "
        "Category I/II 2-21 s, III 21-50 s)", unit="s", min=2.0, max=50.0)
    uv2_pu: float | None = setting(
        None, "UV2 trip threshold (default: Category I/II 0.45, III 0.50; allowed 0-0.50)",
        unit="p.u.", min=0.0, max=0.5)
    uv2_clearing_time_s: float | None = setting(
        None, "UV2 clearing time (default: Category I/II 0.16 s, III 2 s; allowed "
        "Category I/II 0.16-2 s, III 2-21 s)", unit="s", min=0.16, max=21.0)
    of2_hz: float | None = setting(
        None, "OF2 trip threshold (default: nominal + 2.0 Hz; allowed nominal + 1.8 to "
        "+ 6.0 Hz)", unit="Hz", min=45.0, max=66.0)
    of2_clearing_time_s: float | None = setting(
        None, "OF2 clearing time (default 0.16 s)", unit="s", min=0.16, max=1000.0)
    of1_hz: float | None = setting(
        None, "OF1 trip threshold (default: nominal + 1.2 Hz; allowed nominal + 1.0 to "
        "+ 6.0 Hz)", unit="Hz", min=45.0, max=66.0)
    of1_clearing_time_s: float | None = setting(
        None, "OF1 clearing time (default 300 s)", unit="s", min=180.0, max=1000.0)
    uf1_hz: float | None = setting(
        None, "UF1 trip threshold (default: nominal - 1.5 Hz; allowed nominal - 10 to "
        "- 1.0 Hz, not below 45 Hz)", unit="Hz", min=45.0, max=66.0)
    uf1_clearing_time_s: float | None = setting(
        None, "UF1 clearing time (default 300 s)", unit="s", min=180.0, max=1000.0)
    uf2_hz: float | None = setting(
        None, "UF2 trip threshold (default: nominal - 3.5 Hz; allowed nominal - 10 to "
        "- 3.0 Hz, not below 45 Hz)", unit="Hz", min=45.0, max=66.0)
    uf2_clearing_time_s: float | None = setting(
        None, "UF2 clearing time (default 0.16 s)", unit="s", min=0.16, max=1000.0)


@dataclass(frozen=True)
class GridProtectionSettings:
    """The controller's own IEEE 1547 layer: enter service and the islanding backstop.

    The enter-service delay is ``backup.return_delay_s`` (one delay for every return to
    service: after a trip, a loss of the utility, or a backup island).
    """

    enter_service_ramp_s: float = setting(
        300.0, "after entering service, discharge power ramps from zero to full over this "
        "(the enter-service period)", unit="s", min=1.0, max=1000.0)
    enter_service_voltage_min_pu: float = setting(
        0.917, "enter-service window, low voltage", unit="p.u.", min=0.88, max=0.95)
    enter_service_voltage_max_pu: float = setting(
        1.05, "enter-service window, high voltage", unit="p.u.", min=1.05, max=1.06)
    enter_service_frequency_min_hz: float | None = setting(
        None, "enter-service window, low frequency (default nominal - 0.5 Hz; allowed "
        "nominal - 1.0 to - 0.1 Hz)", unit="Hz", min=49.0, max=59.9)
    enter_service_frequency_max_hz: float | None = setting(
        None, "enter-service window, high frequency (default nominal + 0.1 Hz; allowed "
        "nominal + 0.1 to + 1.0 Hz)", unit="Hz", min=50.1, max=61.0)
    permit_service: bool = setting(
        True, "IEEE 1547 permit service: false makes the charger cease to energise any "
        "grid-parallel mode within 2 s and stay stopped")
    rocof_trip_hz_per_s: float | None = setting(
        None, "islanding backstop: a rate of change of frequency above this for "
        "islanding_confirm_s means an island (default: the category's ROCOF ride-through "
        "+ 1 Hz/s; must exceed it)", unit="Hz/s", min=0.6, max=20.0)
    vector_shift_trip_deg: float = setting(
        70.0, "islanding backstop: a voltage phase step larger than this means an island "
        "(the meter sees one phase, so it must exceed the 60 degree single-phase ride-through)",
        unit="deg", min=60.5, max=120.0)
    islanding_confirm_s: float = setting(
        0.3, "the backstop's condition must hold this long", unit="s", min=0.02, max=1.5)
    min_import_w: float = setting(
        10.0, "non-export V2H: grid import below this while discharging means the utility is "
        "gone (minimum-import relay, IEEE 1547.1 5.10.5)", unit="W", min=0.0, max=1000.0)
    min_import_time_s: float = setting(
        0.3, "how long import must stay below min_import_w", unit="s", min=0.1, max=2.0)
    cease_grace_s: float = setting(
        0.25, "after the controller's own element trips, the inverter must have ceased "
        "within this, or the controller opens the contactors itself (GRID_CEASE_FAILED)",
        unit="s", min=0.05, max=2.0)

    def enter_service_frequency_hz(self, nominal_hz: float) -> tuple[float, float]:
        low = (self.enter_service_frequency_min_hz
               if self.enter_service_frequency_min_hz is not None else nominal_hz - 0.5)
        high = (self.enter_service_frequency_max_hz
                if self.enter_service_frequency_max_hz is not None else nominal_hz + 0.1)
        return low, high


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
    from_idle: bool = setting(
        False, "also carry the home when the utility fails while an EV is connected but nothing "
        "runs, or while it charges: K_GRID opens first, then (from idle) the DC side starts "
        "through its checks (the home is dark for that start, about 0.6 s; from charge about "
        "0.2 s); with it, backup continues until a stop is requested, and an explicit stop "
        "request withholds it")
    reserve_soc_pct: float = setting(
        30.0, "backup stops (the home goes dark) at this EV state of charge; below the "
        "discretionary reserve (v2h.reserve_soc_pct) so an outage may use more", unit="%",
        min=5.0, max=95.0)
    return_delay_s: float = setting(
        300.0, "IEEE 1547 enter-service delay: the utility must stay inside the enter-service "
        "window (grid_protection) this long before the charger re-enters service after a trip, "
        "a loss of the utility or a backup island (restarts on any excursion)", unit="s",
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
    weld_check_margin_v: float = setting(
        20.0, "an open DC contactor is proven open when the DC link and the EV inlet differ by "
        "more than this (welding check before closing and after opening)", unit="V", min=5.0,
        max=100.0)
    weld_check_timeout_s: float = setting(
        3.0, "the welding check must prove the DC contactors open within this, or the "
        "contactor is taken as welded (a fault only a technician clears)", unit="s", min=0.5,
        max=30.0)
    dc_dead_below_v: float = setting(
        60.0, "an EV inlet below this is dead (DC SELV limit): voltage cannot prove a weld, so "
        "the check relies on the aux contacts", unit="V", min=10.0, max=120.0)
    insulation_test_s: float = setting(
        0.5, "before precharge, the insulation monitor must report OK for this long with the DC "
        "contactors open", unit="s", min=0.1, max=10.0)
    insulation_test_timeout_s: float = setting(
        5.0, "the insulation test fails when the monitor has not reported OK for "
        "insulation_test_s within this", unit="s", min=0.5, max=60.0)
    precharge_max_starts: int = setting(
        5, "at most this many precharges in any sequence.precharge_window_s (the precharge "
        "resistor's duty): a start beyond it waits, it is not refused", min=1, max=100)
    precharge_window_s: float = setting(
        600.0, "the window of sequence.precharge_max_starts", unit="s", min=10.0,
        max=86400.0)
    startup_request: str = setting(
        "idle", "mode requested at start-up (the technician or EMS may change it)",
        choices=tuple(mode.value for mode in RequestMode))


@dataclass(frozen=True)
class StoreSettings:
    path: str = setting(
        ":memory:", "SQLite file for the event log and latched faults (:memory: = not kept; "
        "real installs use /var/lib/v2x-controller/state.db); created owner-only (0600, missing "
        "directories 0700) whatever the umask; an existing file open to others is tightened "
        "to 0600 with a warning")
    keep_events: int = setting(
        250_000, "event log rows kept; older ones are deleted (about 100 bytes a row on disk: "
        "24 MB at the default, four and a half years of a household's 150 events a day)",
        unit="rows", min=1_000, max=5_000_000)
    keep_cleared_faults: int = setting(
        10_000, "cleared latched faults kept; older ones are deleted (about 90 bytes a row); an "
        "active fault is never deleted", unit="rows", min=100, max=1_000_000)
    keep_audit: int = setting(
        50_000, "console audit rows kept (logins, lock-outs, privileged commands); older ones are "
        "deleted (about 80 bytes a row: 4 MB)", unit="rows", min=1_000, max=1_000_000)
    keep_calibrations: int = setting(
        1_000, "calibration history rows kept besides each channel's newest, which is in force "
        "and always kept", unit="rows", min=10, max=100_000)


@dataclass(frozen=True)
class ConsoleSettings:
    """The technician console on ``hal.serial.ports`` (docs/console.md)."""

    operator_pin_hash: str = setting(
        "", "salted scrypt hash of the operator PIN (modes, power, stop), made with `v2xctl "
        "console hash-pin`; empty = no operator login")
    technician_pin_hash: str = setting(
        "", "salted scrypt hash of the technician PIN (reset, config, service mode); empty = "
        "no technician login")
    min_scrypt_n: int = setting(
        16384, "PIN hashes with a smaller scrypt cost N are refused (lower it only for tests)",
        min=2, max=1048576)
    max_failures: int = setting(3, "wrong PINs in a row before logins are locked out", min=1,
                                max=20)
    lockout_s: float = setting(30.0, "first lock-out; each further one doubles", unit="s",
                               min=1.0, max=3600.0)
    lockout_max_s: float = setting(900.0, "longest lock-out of the back-off", unit="s",
                                   min=1.0, max=86400.0)
    session_timeout_s: float = setting(
        300.0, "a login ends after this long without input (service mode ends with it)",
        unit="s", min=10.0, max=86400.0)
    max_line_bytes: int = setting(256, "longest accepted input line; longer lines are dropped",
                                  unit="bytes", min=64, max=4096)
    output_buffer_bytes: int = setting(
        16384, "output waiting for a slow terminal per port; beyond it output is dropped with "
        "a note", unit="bytes", min=1024, max=1048576)
    read_budget_bytes: int = setting(256, "bytes read per port per control tick", unit="bytes",
                                     min=16, max=65536)
    watch_interval_s: float = setting(1.0, "period of the `watch` status line", unit="s",
                                      min=0.2, max=60.0)

    def __repr__(self) -> str:
        """Every field except the PIN hashes, which are never printed or logged."""
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if not f.name.endswith("_pin_hash"))
        return f"ConsoleSettings({shown}, <pin hashes redacted>)"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    hal: HalSettings = section(HalSettings, "hardware backend and wiring")
    control: ControlSettings = section(ControlSettings, "control loop timing")
    grid: GridSettings = section(GridSettings, "the utility connection")
    protection: ProtectionSettings = section(
        ProtectionSettings, "protection thresholds: sensor ages, DC over-voltage margin, the v2g "
        "export window")
    grid_protection: GridProtectionSettings = section(
        GridProtectionSettings, "IEEE 1547-2018 enter service and the islanding backstop (the "
        "trip settings are in [inverter])")
    frequency_droop: FrequencyDroopSettings = section(
        FrequencyDroopSettings, "IEEE 1547-2018 frequency-watt: the charger's output falls "
        "with over-frequency and rises with under-frequency, within what its mode allows")
    reactive_power: ReactivePowerSettings = section(
        ReactivePowerSettings, "IEEE 1547-2018 reactive power and voltage regulation: constant "
        "power factor, volt-var, watt-var, constant var; volt-watt")
    limits: LimitSettings = section(LimitSettings, "power and current limits")
    inverter: InverterSettings = section(InverterSettings, "the bidirectional inverter")
    v2h: V2hSettings = section(V2hSettings, "vehicle-to-home behaviour (its reserve SoC applies "
                               "to every discretionary discharge: v2h, v2g, v2l)")
    v2g: V2gSettings = section(V2gSettings, "vehicle-to-grid export")
    backup: BackupSettings = section(BackupSettings, "backup power through a utility outage")
    v2l: V2lSettings = section(V2lSettings, "vehicle-to-load outlet")
    sequence: SequenceSettings = section(SequenceSettings, "energise / de-energise sequencing")
    store: StoreSettings = section(StoreSettings, "persistent state")
    safety: SafetySettings = section(SafetySettings, "interlocks, fault retry policy and loop "
                                     "liveness (controller/protection/, docs/safety.md)")
    console: ConsoleSettings = section(ConsoleSettings, "the technician console on the serial "
                                       "ports (docs/console.md)")
    control_socket: ControlSocketSettings = section(
        ControlSocketSettings, "the local control socket the gateway connects to "
        "(docs/gateway.md)")
    ev: EvSettings = section(EvSettings, "the EV link: CHAdeMO charger side (docs/ev-link.md)")
