"""A human- and machine-readable summary of one tick (status line, console, reports).

The status line has two forms. The full form (a pipe, a file, the journal, a wide terminal)
keeps every column at a fixed width, the state padded to the longest state name, so columns
line up whatever the state. The compact form is chosen when the full line is wider than the
terminal; it keeps time, state, grid, SoC and the grid and EV powers, and never exceeds the
width it is given (the tail is cut with an ellipsis). A value not measured yet (no meter
reading, no frequency estimate) shows as ``--``, never as 0. During a shutdown the request
column says ``stopping (ramp-down)``. README.md explains every column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.modes.states import State

STATE_WIDTH = max(len(s.value) for s in State)
MIN_WIDTH = 40  # narrower than this, the compact line is cut anyway
ELLIPSIS = "…"
STOPPING = "stopping (ramp-down)"
QUIET_SOURCES = ("user", "default")  # the compact line names the winner only when it is news


def _measured(value: float | None) -> float | None:
    """A value worth showing: finite, and for a frequency, positive."""
    return value if value is not None and math.isfinite(value) else None


def _field(value: float | None, fmt: str, width: int) -> str:
    return f"{'--':>{width}}" if value is None else f"{value:{fmt}}".rjust(width)

# EV phases the compact line leaves out (nothing under way worth the columns).
QUIET_PHASES = (None, "unplugged", "plugged", "transfer", "ended")

@dataclass(frozen=True, slots=True)
class Status:
    t: float
    state: str
    request: str  # the resolved mode
    request_source: str  # who won the mode (controller/dispatch/arbitration.py), or "default"
    power_limit_w: float | None  # the resolved power limit (None: as the limits allow)
    power_winner: str  # who won the power limit, or "default"
    grid_voltage_v: float | None
    grid_frequency_hz: float | None
    grid_ok: bool
    grid_reason: str
    ev_soc_pct: float | None
    grid_power_w: float | None
    home_power_w: float | None
    ev_power_w: float | None
    pv_power_w: float | None
    commanded_power_w: float
    dispatch_note: str
    faults: tuple[str, ...]
    blocked: str | None = None  # why the requested mode cannot start
    stopping: bool = False  # the controller is shutting down (ramp-down, then open)
    ev_phase: str | None = None  # the EV session's phase (docs/ev-link.md); None: no EV link

    @property
    def frequency(self) -> float | None:
        hz = _measured(self.grid_frequency_hz)
        return hz if hz is not None and hz > 0.0 else None  # 0 Hz: no estimate yet

    def request_text(self) -> str:
        """``req MODE (who won it)`` plus the power limit and its winner, or the stop."""
        if self.stopping:
            return STOPPING
        text = f"req {self.request} ({self.request_source})"
        if self.power_limit_w is not None:
            text += f" max {self.power_limit_w / 1000.0:.2f} kW ({self.power_winner})"
        return text

    def line(self, width: int | None = None) -> str:
        """One status line: the full form, or the compact one when ``width`` (a terminal's
        columns) is narrower than the full line."""
        full = self.full_line()
        if width is None or len(full) <= width:
            return full
        return self.compact_line(width)

    def full_line(self) -> str:
        """State, grid V and Hz, EV SoC, powers, request and winners, faults; fixed columns."""

        def kw(value: float | None) -> str:
            return _field(None if value is None else _measured(value / 1000.0), "+.2f", 6)

        volts = _field(_measured(self.grid_voltage_v), ".1f", 5)
        hz = _field(self.frequency, ".3f", 6)
        soc = _field(_measured(self.ev_soc_pct), ".0f", 3)
        faults = ",".join(self.faults) if self.faults else "none"
        return (f"t={self.t:8.1f}s {self.state:<{STATE_WIDTH}} grid {volts} V {hz} Hz | "
                f"EV {soc} %{self._phase_text()} | kW grid {kw(self.grid_power_w)} "
                f"home {kw(self.home_power_w)} "
                f"EV {kw(self.ev_power_w)} PV {kw(self.pv_power_w)} | {self.request_text()} | "
                f"faults: {faults}" + (f" | waiting: {self.blocked}" if self.blocked else ""))

    def _phase_text(self) -> str:
        return "" if self.ev_phase is None else f" EV phase {self.ev_phase}"

    def compact_line(self, width: int = 80) -> str:
        """At most ``width`` characters: time, state, V, Hz, SoC, grid and EV kW, then the
        faults (or ``stopping``, or the request: ``mode/source`` unless the user or the default
        won it) as far as they fit."""

        def kw(value: float | None) -> str:
            return _field(None if value is None else _measured(value / 1000.0), "+.1f", 5)

        volts = _field(_measured(self.grid_voltage_v), ".0f", 3)
        hz = _field(self.frequency, ".2f", 5)
        soc = _field(_measured(self.ev_soc_pct), ".0f", 3)
        state = self.state
        if self.ev_phase not in QUIET_PHASES:  # a CHAdeMO start or stop under way: if it fits
            with_phase = f"{state} ev:{self.ev_phase}"
            state = with_phase if len(with_phase) <= STATE_WIDTH else state
        head = (f"{self.t:7.0f}s {state:<{STATE_WIDTH}} {volts}V {hz}Hz {soc}% "
                f"grid{kw(self.grid_power_w)} EV{kw(self.ev_power_w)}kW")
        if self.faults:
            tail = "FAULT " + ",".join(self.faults)
        elif self.stopping:
            tail = "stopping"
        else:
            tail = self.request if self.request_source in QUIET_SOURCES else \
                f"{self.request}/{self.request_source}"
        text = f"{head} {tail}"
        limit = max(width, MIN_WIDTH)
        return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS
