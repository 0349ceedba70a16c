"""The benchmarks run (a few ticks each) so they cannot rot; their figures are not checked here
(speed is measured by ``./dev bench``, never by the test suite)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import memory_days
import scenario_reports
import store_size
import tick_cpu
from instrument import block_write_clocks, register_read_clocks

from controller.store.retention import Retention


def test_tick_cpu_measures_a_few_unpaced_ticks_and_sees_the_i2c_traffic() -> None:
    cost = tick_cpu.measure("charge", ticks=3, paced=False, settle_s=0.1)
    assert cost.ticks == 3
    assert cost.controller_us > 0 and cost.chips_us > 0
    assert cost.i2c_transactions > 0 and cost.i2c_clocks > 0


def test_i2c_clock_counts_follow_the_wire_format() -> None:
    # S, addr+W, pointer, Sr, addr+R, 2 data bytes, P: 5 bytes of 9 clocks and 3 conditions
    assert register_read_clocks(2) == 5 * 9 + 3
    # S, addr+W, pointer, 2 data bytes, P
    assert block_write_clocks(2) == 4 * 9 + 2


def test_memory_days_marks_the_first_hour_and_each_day() -> None:
    seen = memory_days.measure_days(1, duration_s=5.0)
    assert seen == []  # no mark reached in 5 s
    data = memory_days.days_of(3)
    assert data["scenario"]["duration_s"] == 3 * memory_days.DAY
    assert len(data["events"]) == 3 * len(memory_days.one_day()["events"])


def test_memory_run_marks_each_point_and_ends() -> None:
    seen = memory_days.measure_run(0.05, marks=2)  # 3 s at 50 Hz
    assert [round(t, 6) for t, _ in seen] == [1.5, 3.0]
    assert all(mb > 0 for _, mb in seen)


def test_scenario_reports_are_written_without_wall_clock_fields(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "estop-while-charging.toml"
    assert scenario_reports.main([str(tmp_path), str(scenario)]) == 0
    (report,) = tmp_path.iterdir()
    assert report.name == "scenarios__estop-while-charging.toml.json"
    text = report.read_text()
    assert '"passed": true' in text
    assert '"wall' not in text  # wall_s and wall: different on every run
    assert '"source": "scenarios/estop-while-charging.toml"' in text  # the same in any copy


def test_store_size_fills_past_the_limits_and_the_file_stops_growing(tmp_path: Path) -> None:
    small = Retention(events=2000, cleared_faults=100, audit=1000, calibrations=10)
    sizes = store_size.bounded_file(tmp_path, small)
    assert [events for events, _ in sizes] == [2000, 4000]
    assert sizes[1][1] <= sizes[0][1] * 1.1  # written twice over: pages reused, not added
