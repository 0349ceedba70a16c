"""IEEE 1547-2018 grid protection: settings, trip elements, ride-through, enter service, backstop.

Unit tests of the pure modules, then a representative subset of ``scenarios/grid/`` against the
whole simulated charger (the full set, including the 300 s elements and the 600 s frequency
ride-through, runs in ``bench/grid_protection.py``).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from controller.config.grid_codes import (
    CATEGORIES,
    ELEMENTS,
    VOLTAGE_RIDE_THROUGH,
    element_specs,
    resolve_trips,
    ride_through_time_s,
)
from controller.config.loader import load_config
from controller.config.model import Config, GridProtectionSettings
from controller.links.inverter_settings import inverter_settings_from_config
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.grid.enter_service import EnterService
from controller.protection.grid.grid_trip import CeaseWatch, GridTripElements
from controller.protection.grid.grid_window import GridWindow
from controller.protection.monitor import ProtectionInput
from controller.values.snapshot import ContactorView, Snapshot
from hal.errors import ConfigError
from hal.interfaces.meter import AcMeterReading
from hal.protocols.inverter_messages import InverterState, InverterStatus
from simulation.scenarios.runner import run_file
from simulation.scenarios.spec import load_scenario

ROOT = Path(__file__).resolve().parent.parent
GRID = ROOT / "scenarios" / "grid"
SIM = '[hal]\nbackend = "sim"\n'


def est(v_pu: float = 1.0, f: float = 60.0, rocof: float = 0.0) -> GridEstimate:
    return GridEstimate(240.0 * v_pu, v_pu, f, rocof, True)


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "expected"), [
    ("I", {"ov1": (1.10, 2.0), "uv1": (0.70, 2.0), "uv2": (0.45, 0.16)}),
    ("II", {"ov1": (1.10, 2.0), "uv1": (0.70, 10.0), "uv2": (0.45, 0.16)}),
    ("III", {"ov1": (1.10, 13.0), "uv1": (0.88, 21.0), "uv2": (0.50, 2.0)}),
])
def test_category_defaults_follow_ieee_1547_tables_11_to_13(
        category: str, expected: dict[str, tuple[float, float]]) -> None:
    trips = {e.name: e for e in resolve_trips(category, 60.0, {})}
    assert (trips["ov2"].threshold, trips["ov2"].clearing_time_s) == (1.20, 0.16)
    for name, (threshold, time_s) in expected.items():
        assert (trips[name].threshold, trips[name].clearing_time_s) == (threshold, time_s)
    assert [(trips[n].threshold, trips[n].clearing_time_s) for n in ("of2", "of1", "uf1", "uf2")
            ] == [(62.0, 0.16), (61.2, 300.0), (58.5, 300.0), (56.5, 0.16)]


def test_50_hz_systems_get_50_hz_frequency_trips_on_the_wire() -> None:
    config = load_config(SIM + "[grid]\nnominal_voltage_v = 230.0\nnominal_frequency_hz = 50.0\n")
    sent = inverter_settings_from_config(config)
    assert (sent.of2_hz, sent.of1_hz, sent.uf1_hz, sent.uf2_hz) == (52.0, 51.2, 48.5, 46.5)
    assert (sent.ov1_pu, sent.uv2_pu) == (1.10, 0.45)  # per unit: the same for 230 V


def test_category_iii_defaults_are_sent_when_it_is_chosen() -> None:
    config = load_config(SIM + '[inverter]\nride_through_category = "III"\n')
    sent = inverter_settings_from_config(config)
    assert (sent.uv1_pu, sent.uv1_clearing_time_s, sent.uv2_clearing_time_s,
            sent.ov1_clearing_time_s) == (0.88, 21.0, 2.0, 13.0)


@pytest.mark.parametrize(("text", "message"), [
    ("uv1_clearing_time_s = 25.0\n",
     "inverter.uv1_clearing_time_s = 25: outside the allowed range 2 to 21 s "
     "(IEEE 1547-2018 Category II, 60 Hz)"),
    ('ride_through_category = "III"\nuv2_clearing_time_s = 1.0\n',
     "inverter.uv2_clearing_time_s = 1: outside the allowed range 2 to 21 s "
     "(IEEE 1547-2018 Category III, 60 Hz)"),
    ("of2_hz = 61.5\n",
     "inverter.of2_hz = 61.5: outside the allowed range 61.8 to 66 Hz "
     "(IEEE 1547-2018 Category II, 60 Hz)"),
    ("uf1_hz = 49.5\n",
     "inverter.uf1_hz = 49.5: outside the allowed range 50 to 59 Hz "
     "(IEEE 1547-2018 Category II, 60 Hz)"),
])
def test_a_trip_setting_outside_the_standard_names_the_range(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(SIM + "[inverter]\n" + text)
    assert message in info.value.problems


def test_a_60_hz_threshold_on_a_50_hz_system_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(SIM + "[grid]\nnominal_frequency_hz = 50.0\n[inverter]\nof2_hz = 62.0\n")
    assert ("inverter.of2_hz = 62: outside the allowed range 51.8 to 56 Hz "
            "(IEEE 1547-2018 Category II, 50 Hz)") in info.value.problems


def test_overrides_inside_the_range_are_sent() -> None:
    config = load_config(SIM + "[inverter]\nuv1_pu = 0.5\nuv1_clearing_time_s = 21.0\n")
    sent = inverter_settings_from_config(config)
    assert (sent.uv1_pu, sent.uv1_clearing_time_s) == (0.5, 21.0)


# --- ride-through consistency ------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_default_voltage_trips_never_cut_a_minimum_ride_through_time(category: str) -> None:
    """Inside every region, each element that could act clears no earlier than the region's
    minimum ride-through time: no nuisance trip where the standard says ride through."""
    specs = element_specs(category, 60.0)
    for region in VOLTAGE_RIDE_THROUGH[category]:
        if region.mode == "cease":
            continue
        for v in (region.low + 0.001, (region.low + region.high) / 2, region.high - 0.001):
            if abs(v) == float("inf") or v < 0:
                continue
            must = ride_through_time_s(category, v)
            for name in ("ov1", "ov2", "uv1", "uv2"):
                spec = specs[name]
                acts = v > spec.threshold if name.startswith("ov") else v < spec.threshold
                if acts:
                    assert spec.clearing_time_s >= min(must, 1e9) - 1e-9, (category, v, name)


def test_default_frequency_trips_allow_the_mandatory_299_s() -> None:
    specs = element_specs("II", 60.0)
    assert specs["of2"].threshold > 61.8 and specs["uf2"].threshold < 57.0
    assert specs["of1"].clearing_time_s > 299.0 and specs["uf1"].clearing_time_s > 299.0


# --- the controller's own elements ---------------------------------------------------------------


def test_each_element_trips_at_its_clearing_time_and_not_before() -> None:
    trips = GridTripElements(resolve_trips("II", 60.0, {}))
    t = 0.0
    assert trips.update(t, 1.15, 60.0) is None
    while t < 1.98:
        t += 0.02
        assert trips.update(t, 1.15, 60.0) is None
    t = 2.0
    tripped = trips.update(t, 1.15, 60.0)
    assert tripped is not None and tripped.label == "OV1"
    assert trips.update(2.02, 1.0, 60.0) is None  # back inside: timers cleared


def test_a_short_excursion_resets_the_timer() -> None:
    trips = GridTripElements(resolve_trips("II", 60.0, {}))
    trips.update(0.0, 1.15, 60.0)
    trips.update(1.5, 1.0, 60.0)
    assert trips.update(1.6, 1.15, 60.0) is None
    assert trips.update(3.5, 1.15, 60.0) is None
    assert trips.update(3.6, 1.15, 60.0) is not None


def _snap(t: float, power_w: float, grid_w: float = 100.0,
          state: InverterState = InverterState.GRID_FOLLOWING) -> Snapshot:
    status = InverterStatus(state=state, dc_voltage_v=400.0, dc_current_a=0.0,
                            ac_power_w=power_w, ac_voltage_v=240.0, ac_frequency_hz=60.0,
                            reactive_power_var=0.0, temperature_c=30.0, fault_word=0,
                            warning_word=0, synced=False)
    meter = AcMeterReading(t=t, voltage_rms_v=240.0, frequency_hz=60.0,
                           grid_current_rms_a=0.5, grid_power_w=grid_w, grid_reactive_var=0.0,
                           pv_current_rms_a=0.0, pv_power_w=0.0, voltage_lost=False)
    return Snapshot(t=t, meter=meter, meter_error=None, analog={}, adc_error=None,
                    contactors={"grid": ContactorView(False, True)}, inputs={},
                    inverter=status, inverter_age_s=0.0, ev=None)


def test_the_controller_opens_the_contactors_when_the_inverter_does_not_cease() -> None:
    watch = CeaseWatch(0.25, 11000.0)
    watch.arm(10.0, "OV2 trip")
    assert watch.update(ProtectionInput(_snap(10.2, -3000.0))).trips == ()  # within the grace
    trips = watch.update(ProtectionInput(_snap(10.3, -3000.0))).trips
    assert [t.code for t in trips] == ["GRID_CEASE_FAILED"] and "OV2" in trips[0].detail
    watch.arm(20.0, "OF2 trip")
    assert watch.update(ProtectionInput(_snap(20.5, 0.0))).trips == ()  # ceased: nothing to do


# --- enter service ---------------------------------------------------------------------------


def test_enter_service_waits_the_delay_and_restarts_on_an_excursion() -> None:
    es = EnterService(GridProtectionSettings(), 60.0, delay_s=300.0)
    assert es.update(0.0, est()) == ""  # start-up: the window alone
    es.leave()
    assert "0 of 300 s" in es.update(1.0, est())
    assert es.update(200.0, est()) != ""
    assert "outside the enter-service window" in es.update(201.0, est(0.90))
    assert es.update(202.0, est()) != ""  # back inside: the delay starts again
    assert es.update(501.0, est()) != ""
    assert es.update(502.0, est()) == ""
    assert es.power_fraction(502.0) == 0.0
    assert es.power_fraction(652.0) == pytest.approx(0.5)
    assert es.power_fraction(900.0) == 1.0


def test_withdrawn_permit_service_stops_and_needs_a_new_delay() -> None:
    es = EnterService(GridProtectionSettings(), 60.0, delay_s=300.0)
    es.update(0.0, est())
    es.set_permit(False)
    assert es.update(1.0, est()) == "permit service is disabled"
    es.set_permit(True)
    assert es.update(6.0, est()) != ""
    assert es.update(307.0, est()) == ""


def test_the_enter_service_frequency_window_follows_50_hz() -> None:
    es = EnterService(GridProtectionSettings(), 50.0, delay_s=0.0)
    es.leave()
    assert es.update(0.0, est(f=49.6)) == ""
    es.leave()
    assert "frequency" in es.update(1.0, est(f=50.2))


# --- the islanding backstop ------------------------------------------------------------------


def _window(**grid_protection: object) -> GridWindow:
    config = dataclasses.replace(
        Config(), grid_protection=GridProtectionSettings(**grid_protection))  # type: ignore[arg-type]
    return GridWindow(config)


def test_minimum_import_declares_an_island_only_while_discharging_without_export() -> None:
    window = _window()
    verdicts = [window.update(0.02 * i, est(), _snap(0.02 * i, -3000.0, grid_w=0.0))
                for i in range(20)]
    assert verdicts[0].ok and not verdicts[10].island  # 0.3 s must pass first
    assert verdicts[-1].island and "minimum-import" in verdicts[-1].reason
    calm = _window()
    for i in range(40):
        t = 0.02 * i
        assert not calm.update(t, est(), _snap(t, -3000.0, grid_w=0.0), export_wanted=True).island
        assert not calm.update(t, est(), _snap(t, -3000.0, grid_w=150.0)).island


def test_rocof_inside_the_ride_through_is_not_an_island_beyond_it_is() -> None:
    window = _window()
    verdicts = [window.update(0.02 * i, est(f=60.0, rocof=2.0), _snap(0.02 * i, 0.0))
                for i in range(50)]
    assert all(v.ok and not v.island for v in verdicts)
    verdicts = [window.update(1.0 + 0.02 * i, est(f=60.0, rocof=3.5), _snap(1.0, 0.0))
                for i in range(20)]
    assert not verdicts[10].island and verdicts[-1].island and "ROCOF" in verdicts[-1].reason


# --- whole charger: a representative subset of scenarios/grid/ -------------------------------


def test_every_grid_scenario_file_is_valid() -> None:
    files = sorted(GRID.glob("*.toml"))
    assert len(files) >= 15
    for path in files:
        load_scenario(path)
    names = {p.stem for p in files}
    assert {f"trip-{e}" for e in ELEMENTS} <= names


CI_SUBSET = ("trip-ov2", "trip-uf2", "trip-of2-50hz", "ride-through-voltage-cat2",
             "ride-through-rocof", "ride-through-phase-jump", "ride-through-phase-jump-50hz",
             "ride-through-v2g-export", "cease-failed-ov2",
             "return-to-service-after-inverter-trip", "export-enters-service",
             "island-v2h-backup",
             "islanding-backstop-v2h")


@pytest.mark.parametrize("name", CI_SUBSET)
def test_grid_scenario_passes(name: str) -> None:
    report = run_file(GRID / f"{name}.toml", progress=None)
    failed = [e["explanation"] for e in report["expectations"] if not e["passed"]]
    assert report["passed"], failed


def test_vector_shift_beyond_the_single_phase_ride_through_is_an_island() -> None:
    window = _window()
    for jump, island in ((20.0, False), (-340.0, False), (60.0, False), (100.0, True)):
        verdict = window.update(0.02, dataclasses.replace(est(), phase_jump_deg=jump),
                                _snap(0.02, 0.0))
        assert verdict.island is island, jump


def test_after_a_return_to_service_power_ramps_up_over_the_enter_service_period(
        make_charger: Any) -> None:
    """IEEE 1547-2018 4.10.3: after the enter-service delay, power rises over the ramp period
    (in 5 % steps of the rating here), never at once."""
    charger = make_charger({"backup": {"enabled": False, "return_delay_s": 5.0},
                            "grid_protection": {"enter_service_ramp_s": 20.0}})
    charger.request("charge")
    charger.run(8.0)
    rated = charger.config.inverter.rated_power_w
    assert charger.world.inverter.ac_power_w > 0.9 * min(rated, 11000.0) * 0.5
    charger.world.outage()
    charger.run(2.0)
    charger.world.restore_grid()
    charger.run(5.0 + 1.0)  # the delay; then the charger restarts (about a second)
    seen: list[tuple[float, float]] = []
    start = charger.now
    charger.sup.run(duration_s=24.0, on_tick=lambda sup: seen.append(
        (sup.clock.now() - start,
         rated if sup.resolution.power_w is None else sup.resolution.power_w)))
    limits = [limit for _, limit in seen]
    assert limits[0] <= 0.35 * rated  # early in the ramp: a small share of the rating
    assert all(b >= a for a, b in itertools.pairwise(limits))  # only upwards
    assert len(set(limits)) >= 10  # in steps, not at once
    assert charger.sup.resolution.power_source == "default"  # the claim is released at the end


@pytest.mark.parametrize(("v_pu", "f_hz", "stops"), [
    (0.66, 60.0, False),   # Category II mandatory operation (0.65-0.88 p.u.)
    (0.80, 60.0, False),
    (1.0, 61.75, False),   # frequency mandatory operation (61.2-61.8 Hz)
    (1.0, 58.2, False),
    (0.55, 60.0, True),    # permissive operation: the window may stop export there
    (1.0, 61.9, True),     # beyond the frequency ride-through band
])
def test_the_export_window_never_overrides_ride_through(v_pu: float, f_hz: float,
                                                        stops: bool) -> None:
    """IEEE 1547-2018 6.4: an exporting charger is a DER; the [protection] export window may
    stop export only where the standard lets a DER cease."""
    window = _window()
    t, verdict = 0.0, None
    while t < 1.0:
        verdict = window.update(t, est(), _snap(t, -3000.0), export_wanted=True)
        t += 0.02
    assert verdict is not None and verdict.ok
    while t < 3.5:  # the window's delay is 2 s; every trip element here takes longer
        verdict = window.update(t, est(v_pu, f_hz), _snap(t, -3000.0), export_wanted=True)
        t += 0.02
    assert verdict.tripped is None
    assert (not verdict.ok and "export window" in verdict.reason) is stops, verdict.reason
