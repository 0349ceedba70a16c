"""Text for people: status, faults, event log, limits and self-test as terminal lines."""

from __future__ import annotations

from typing import Any

from controller.store.state_store import StoredEvent
from controller.values.status import Status


def _kw(value: float | None) -> str:
    return "--" if value is None else f"{value / 1000.0:+.2f} kW"


def _num(value: float | None, fmt: str, unit: str) -> str:
    return "--" if value is None else f"{value:{fmt}} {unit}"


def status_text(status: Status, temperatures: dict[str, float | None]) -> str:
    limit = ("as the limits allow" if status.power_limit_w is None
             else f"{status.power_limit_w / 1000.0:.2f} kW")
    lines = [
        f"state      {status.state}",
        f"mode       {status.request} (won by {status.request_source}); power limit {limit} "
        f"(won by {status.power_winner})",
        f"grid       {_num(status.grid_voltage_v, '.1f', 'V')} "
        f"{_num(status.grid_frequency_hz, '.3f', 'Hz')} "
        + ("ok" if status.grid_ok else f"ABNORMAL ({status.grid_reason})"),
        f"ev         SoC {_num(status.ev_soc_pct, '.0f', '%')}",
        f"power      grid {_kw(status.grid_power_w)}  home {_kw(status.home_power_w)}  "
        f"EV {_kw(status.ev_power_w)}  PV {_kw(status.pv_power_w)}  "
        f"commanded {_kw(status.commanded_power_w)}",
        "temps      " + ("  ".join(f"{name} {_num(v, '.1f', '')}".rstrip()
                                   for name, v in temperatures.items())
                         or "none measured (no temperature channel configured)"),
        f"faults     {', '.join(status.faults) if status.faults else 'none'}",
    ]
    if status.dispatch_note:
        lines.append(f"dispatch   {status.dispatch_note}")
    if status.blocked:
        lines.append(f"waiting    {status.blocked}")
    return "\r\n".join(lines)


def faults_text(faults: list[dict[str, Any]]) -> str:
    if not faults:
        return "no latched faults"
    return "\r\n".join(f"{f['code']} ({f['severity']}): {f['detail']}\r\n    check: {f['check']}"
                       for f in faults)


def events_text(events: list[StoredEvent]) -> str:
    if not events:
        return "the event log is empty"
    return "\r\n".join(f"{e.t:9.2f} s  {e.kind:<9} {e.text}" for e in events)


def limits_text(limits: dict[str, Any]) -> str:
    cfg = limits["config"]
    ev = limits["ev"]
    lines = [
        f"charge max {cfg['max_charge_power_w']:.0f} W, discharge max "
        f"{cfg['max_discharge_power_w']:.0f} W, cable {cfg['cable_max_current_a']:.0f} A, "
        f"ramp {cfg['ramp_rate_w_per_s']:.0f} W/s",
        f"inverter rated {limits['inverter_rated_power_w']:.0f} W, "
        f"{limits['inverter_max_dc_current_a']:.0f} A DC; V2L outlet "
        f"{limits['v2l_rated_power_w']:.0f} W",
        f"reserve SoC {limits['reserve_soc_pct']:.0f} % (backup "
        f"{limits['backup_reserve_soc_pct']:.0f} %)",
        "ev: no report" if ev is None else
        f"ev: max {ev['max_battery_voltage_v']:.0f} V, asks {ev['charge_current_request_a']:.0f} "
        f"A, discharge max {ev['max_discharge_current_a']:.0f} A "
        f"({'compatible' if ev['discharge_compatible'] else 'not discharge compatible'})",
        "arbitrated power limit: " + ("none" if limits["power_limit_w"] is None else
                                      f"{limits['power_limit_w']:.0f} W")
        + f" (won by {limits['power_limit_source']})",
    ]
    return "\r\n".join(lines)


def selftest_text(checks: list[tuple[str, bool, str]]) -> str:
    return "\r\n".join(f"{'PASS' if good else 'FAIL'}  {name:<20} {detail}"
                       for name, good, detail in checks)
