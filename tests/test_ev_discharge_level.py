"""The vehicle's minimum discharge level (0x200 byte 6) in the unit it really uses (issue 19,
left open on the chademo branch): the Leaf ZE1 sends percent (10 / 100), the 24 kWh-class Leaf
sends 0x101 capacity units (67 / 178 against a capacity of 222: 30 % / 80 %). Replayed from the
recorded sessions (read in place, never copied)."""

from __future__ import annotations

import pytest
from test_ev_replay import DATA, LEAF24, ZE1, read_log

from hal.protocols.chademo_codec import (
    EV_DISCHARGE_LIMITS_ID,
    ChademoCodec,
    ChademoVehicleDecoder,
    discharge_level_pct,
)
from hal.protocols.dbc_frames import FrameError

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"recorded sessions not at {DATA}")


def _levels(name: str) -> list[float]:
    """The minimum discharge level of every report with the vehicle's 0x200 in it."""
    decoder = ChademoVehicleDecoder(ChademoCodec())
    found: list[float] = []
    for frame in read_log(name):
        try:
            decoder.feed(frame.frame_id, frame.data, frame.t)
        except FrameError:
            continue
        if frame.frame_id != EV_DISCHARGE_LIMITS_ID:
            continue
        report = decoder.report(frame.t, 1.0)
        if report is not None and decoder.frame_age(EV_DISCHARGE_LIMITS_ID, frame.t) == 0.0:
            found.append(report.min_discharge_soc_pct)
    return found


def test_the_old_leaf_reports_its_level_in_capacity_units() -> None:
    levels = _levels(LEAF24)
    assert levels, "the 24 kWh Leaf's 0x200 was never accepted"
    assert levels[-1] == pytest.approx(100.0 * 67 / 222, abs=0.05)  # 30.2 %, not 67 %


def test_the_ze1_reports_percent() -> None:
    levels = _levels(ZE1)
    assert levels and levels[-1] == pytest.approx(10.0)


@pytest.mark.parametrize(("level", "maximum", "capacity_raw", "expected"), [
    (10, 100, 400, 10.0),  # percent (ZE1)
    (67, 178, 222, 100.0 * 67 / 222),  # capacity units (older Leaf)
    (30, 0, 222, 30.0),  # ambiguous: percent, the higher (safer) floor
    (150, 0, 222, 100.0 * 150 / 222),  # above 100: capacity units
    (255, 255, 0, 100.0),  # placeholders or no capacity: no discharge below 100 %
])
def test_discharge_level_pct(level: int, maximum: int, capacity_raw: int,
                             expected: float) -> None:
    assert discharge_level_pct(level, maximum, capacity_raw) == pytest.approx(expected)
