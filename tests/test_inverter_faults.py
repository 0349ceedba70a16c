"""Inverter fault words become controller faults, one code per bit, with what to check."""

from __future__ import annotations

import dataclasses

from controller.faults import CATALOGUE, INVERTER_FAULT_BITS, Severity
from controller.protection.inverter_faults import check_inverter_faults
from controller.values.snapshot import Snapshot
from hal.protocols.inverter_messages import InverterState, InverterStatus

STATUS = InverterStatus(InverterState.FAULT, 380.0, 0.0, 0.0, 240.0, 60.0, 0.0, 40.0, 0, 0)


def snapshot(fault_word: int) -> Snapshot:
    return Snapshot(t=1.0, meter=None, meter_error=None, analog={}, adc_error=None,
                    contactors={}, inputs={}, ev=None, inverter_age_s=0.0,
                    inverter=dataclasses.replace(STATUS, fault_word=fault_word))


def test_no_fault_word_no_trip() -> None:
    assert check_inverter_faults(snapshot(0)) == []


def test_each_bit_has_its_own_catalogued_code() -> None:
    for bit, code in enumerate(INVERTER_FAULT_BITS):
        trips = check_inverter_faults(snapshot(1 << bit))
        assert [t.code for t in trips] == [code]
        assert code in CATALOGUE and CATALOGUE[code].check
        assert f"bit {bit}" in trips[0].detail


def test_several_bits_and_reserved_bits() -> None:
    trips = check_inverter_faults(snapshot((1 << 0) | (1 << 7) | (1 << 14)))
    codes = [t.code for t in trips]
    assert codes == ["INV_DC_OVERVOLTAGE", "INV_ISLANDING", "INV_HARDWARE"]
    assert "reserved fault bit(s) [14]" in trips[-1].detail


def test_severities_open_at_once_for_hazards() -> None:
    for code in ("INV_DC_OVERCURRENT", "INV_ISLANDING", "INV_INSULATION", "INV_HARDWARE"):
        assert CATALOGUE[code].severity is Severity.EMERGENCY
    assert CATALOGUE["INV_OVERTEMPERATURE"].severity is Severity.STOP
