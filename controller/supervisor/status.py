"""A human- and machine-readable summary of one tick (status line, console, reports)."""

from __future__ import annotations

from dataclasses import dataclass


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

    def line(self) -> str:
        """One status line: state, grid V and Hz, EV SoC, powers, request and winners, faults."""

        def kw(value: float | None) -> str:
            return "   --  " if value is None else f"{value / 1000.0:+6.2f}"

        volts = "--" if self.grid_voltage_v is None else f"{self.grid_voltage_v:5.1f}"
        hz = "--" if self.grid_frequency_hz is None else f"{self.grid_frequency_hz:6.3f}"
        soc = " --" if self.ev_soc_pct is None else f"{self.ev_soc_pct:3.0f}"
        faults = ",".join(self.faults) if self.faults else "none"
        request = f"req {self.request} ({self.request_source})"
        if self.power_limit_w is not None:
            request += f" max {self.power_limit_w / 1000.0:.2f} kW ({self.power_winner})"
        return (f"t={self.t:8.1f}s {self.state:<19} grid {volts} V {hz} Hz | EV {soc} % | "
                f"kW grid {kw(self.grid_power_w)} home {kw(self.home_power_w)} "
                f"EV {kw(self.ev_power_w)} PV {kw(self.pv_power_w)} | {request} | "
                f"faults: {faults}" + (f" | waiting: {self.blocked}" if self.blocked else ""))
