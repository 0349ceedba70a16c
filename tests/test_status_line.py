"""The status line as a person reads it: aligned, honest about missing values, fits a terminal."""

from __future__ import annotations

import dataclasses
import io

import pytest

from controller.cli.run_output import OutputStream, StatusPrinter
from controller.modes.states import State
from controller.values.status import Status
from harness import Charger

STATES = [s.value for s in State]


def sample(state: str = "energised_charge", **changes: object) -> Status:
    base = Status(t=12.0, state=state, request="charge", request_source="user",
                  power_limit_w=None, power_winner="default", grid_voltage_v=240.0,
                  grid_frequency_hz=60.0, grid_ok=True, grid_reason="", ev_soc_pct=50.0,
                  grid_power_w=9000.0, home_power_w=1500.0, ev_power_w=7400.0,
                  pv_power_w=0.0, commanded_power_w=7400.0, dispatch_note="", faults=())
    return dataclasses.replace(base, **changes)


def column(line: str, marker: str) -> int:
    return line.index(marker)


def test_columns_line_up_for_every_state_name() -> None:
    lines = [sample(state).line() for state in STATES]
    for marker in (" grid ", " | EV ", " | kW grid", " | req "):
        assert len({column(line, marker) for line in lines}) == 1, marker


def test_missing_values_keep_their_column_width() -> None:
    measured = sample().line()
    missing = sample(grid_voltage_v=None, grid_frequency_hz=None, ev_soc_pct=None,
                     grid_power_w=None, home_power_w=None, ev_power_w=None,
                     pv_power_w=None).line()
    for marker in (" V ", " Hz ", " % ", " home ", " EV ", " PV ", " | req "):
        assert column(measured, marker) == column(missing, marker), (marker, missing)


def test_no_frequency_estimate_shows_dashes_not_zero() -> None:
    line = sample(grid_frequency_hz=0.0).line()
    assert "0.000 Hz" not in line and "-- Hz" in line
    assert "nan" not in sample(grid_frequency_hz=float("nan"), ev_soc_pct=float("nan")).line()


def test_first_status_line_of_a_run_has_no_zero_hertz(charger: Charger) -> None:
    charger.sup.tick()  # the very first tick: one meter reading, no frequency window yet
    line = charger.sup.status().line()
    assert "0.000 Hz" not in line, line


@pytest.mark.parametrize("width", [80, 60])
def test_narrow_terminal_gets_a_compact_line_that_fits(width: int) -> None:
    for state in STATES:
        status = sample(state, faults=("OVER_TEMPERATURE", "METER_LOST"), t=1_234_567.0,
                        power_limit_w=3000.0, power_winner="grid_operator",
                        blocked="no EV connected, or it is not reporting")
        assert len(status.line()) > 80  # the full form would wrap
        compact = status.line(width)
        assert len(compact) <= width, compact
        assert compact.split()[1] == state


def test_compact_line_keeps_the_essentials() -> None:
    compact = sample().line(80)
    for part in ("energised_charge", "240V", "60.00Hz", "50%", "grid +9.0", "EV +7.4kW",
                 "charge"):
        assert part in compact, compact


def test_a_wide_terminal_and_a_pipe_get_the_full_line() -> None:
    status = sample()
    assert status.line(200) == status.line() == status.full_line()


def test_status_says_stopping_during_a_shutdown() -> None:
    assert "stopping (ramp-down)" in sample(stopping=True).line()
    assert "req " not in sample(stopping=True).line()
    assert "stopping" in sample(stopping=True).line(80)


def test_printer_uses_the_terminal_width_it_is_given() -> None:
    buffer = io.StringIO()
    printer = StatusPrinter(OutputStream(buffer, "stdout"), 1.0, 0.0, width=lambda: 80)
    printer.maybe_print(0.0, sample)
    printer.maybe_print(0.5, sample)  # not due
    printer.maybe_print(1.0, sample)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
