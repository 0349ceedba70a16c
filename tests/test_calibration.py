"""Calibration: compute, refuse the implausible, store with date and reference, apply after a
restart (real SQLite file, the simulated meter with a gain error)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from controller.measurement.calibration import (
    CalibrationRefused,
    CalibrationSet,
    ReferencePoint,
    calibrate,
    compute_calibration,
)
from controller.store.calibration_store import CalibrationStore
from controller.store.state_store import StateStore
from controller.supervisor.inputs import read_snapshot
from tests.harness import Charger

WHEN = datetime(2026, 11, 25, 14, 30)
FLUKE = "Fluke 87V s/n 4711, calibrated 2026-06"


def test_one_point_gives_gain_two_points_give_gain_and_offset() -> None:
    one = calibrate("meter.voltage", [ReferencePoint(240.0, 236.0)], FLUKE, WHEN)
    assert one.gain == pytest.approx(240.0 / 236.0)
    assert one.offset == 0.0
    assert one.apply(236.0) == pytest.approx(240.0)
    two = calibrate("adc.dc_current_a", [ReferencePoint(0.0, 0.4), ReferencePoint(100.0, 98.4)],
                    FLUKE, WHEN, analog_names=["dc_current_a"])
    assert two.apply(0.4) == pytest.approx(0.0)
    assert two.apply(98.4) == pytest.approx(100.0)
    assert two.invert(two.apply(50.0)) == pytest.approx(50.0)
    assert two.date == "2026-11-25T14:30:00"
    assert two.reference == FLUKE


@pytest.mark.parametrize(("points", "message"), [
    ([ReferencePoint(240.0, 200.0)], "20.0% off 1"),  # gain 1.2
    ([ReferencePoint(240.0, 0.0)], "non-zero"),
    ([ReferencePoint(10.0, 10.0), ReferencePoint(20.0, 10.0)], "same measured value"),
    ([ReferencePoint(100.0, 70.0), ReferencePoint(200.0, 170.0)], "offset"),  # offset 30
    ([], "1 or 2"),
])
def test_implausible_calibrations_are_refused(points: list[ReferencePoint], message: str) -> None:
    with pytest.raises(CalibrationRefused, match=message) as info:
        calibrate("meter.voltage", points, FLUKE, WHEN)
    assert "meter.voltage" in str(info.value)


def test_unknown_channel_and_missing_reference_are_refused() -> None:
    with pytest.raises(CalibrationRefused, match=r"unknown channel 'meter\.volts'"):
        calibrate("meter.volts", [ReferencePoint(1.0, 1.0)], FLUKE, WHEN)
    with pytest.raises(CalibrationRefused, match="reference instrument"):
        compute_calibration("meter.voltage", [ReferencePoint(1.0, 1.0)], "  ", WHEN)


def test_store_keeps_history_and_refuses_a_tampered_row(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path / "state.db"))
    cals = CalibrationStore(store)
    first = calibrate("meter.voltage", [ReferencePoint(240.0, 238.0)], FLUKE, WHEN)
    second = calibrate("meter.voltage", [ReferencePoint(240.0, 239.0)], FLUKE, WHEN)
    cals.save(first)
    cals.save(second)
    assert [c.gain for c in cals.history("meter.voltage")] == [first.gain, second.gain]
    assert cals.load().calibrations.get("meter.voltage") == second
    store.connection.execute("UPDATE calibrations SET gain = 1.5 WHERE id = 2")
    loaded = cals.load()
    assert loaded.calibrations.get("meter.voltage") is None
    assert "50.0% off 1" in loaded.refused[0]
    cals.clear("meter.voltage", WHEN.isoformat())
    assert len(cals.load().calibrations) == 0
    store.close()


def _snapshot_voltage(charger: Charger, calibration: CalibrationSet | None) -> float:
    sup = charger.sup
    snap = read_snapshot(charger.hw, sup.inverter, sup.ev, sup.inverter_settings, charger.now,
                         calibration)
    assert snap.meter is not None
    return snap.meter.voltage_rms_v


def test_calibration_round_trip_survives_a_restart(tmp_path: Path) -> None:
    """Must show 4: a meter reading 3 % high is calibrated against a reference, the controller
    restarts on the same database, and its readings are corrected from the first tick."""
    db = str(tmp_path / "state.db")
    charger = Charger(store_path=db)
    charger.world.meter_chip.gain_error = 0.03
    charger.world.meter_chip.rms_noise_rel = 0.0
    charger.run(0.1)
    true_v = charger.world.grid.voltage_v
    raw = _snapshot_voltage(charger, None)
    assert raw == pytest.approx(true_v * 1.03, rel=1e-4)
    cal = calibrate("meter.voltage", [ReferencePoint(true_v, raw)], FLUKE, WHEN)
    CalibrationStore(charger.store).save(cal)
    charger.close()

    restarted = Charger(store_path=db)  # a new process: new store object, new hardware
    restarted.world.meter_chip.gain_error = 0.03
    restarted.world.meter_chip.rms_noise_rel = 0.0
    loaded = CalibrationStore(restarted.store).load()
    assert loaded.refused == []
    stored = loaded.calibrations.get("meter.voltage")
    assert stored is not None and stored.reference == FLUKE and stored.date == WHEN.isoformat()
    restarted.run(0.1)
    corrected = _snapshot_voltage(restarted, loaded.calibrations)
    assert corrected == pytest.approx(restarted.world.grid.voltage_v, rel=1e-4)
    # The supervisor itself loaded it at start-up: its own snapshots are corrected.
    assert restarted.sup.calibration.get("meter.voltage") == stored
    own = restarted.sup.last_snapshot
    assert own is not None and own.meter is not None
    assert own.meter.voltage_rms_v == pytest.approx(restarted.world.grid.voltage_v, rel=1e-4)
    assert any(e.kind == "calibration" and "meter.voltage" in e.text and FLUKE in e.text
               for e in restarted.store.events(50))
    restarted.close()
