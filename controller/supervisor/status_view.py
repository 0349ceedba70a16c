"""The status of the last tick (``controller/values/status.py``) from the values it left."""

from __future__ import annotations

from collections.abc import Set

from controller.config.model import Config
from controller.dispatch.arbitration import Resolution
from controller.dispatch.dispatcher import DispatchResult
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.protection import ProtectionResult
from controller.values.snapshot import Snapshot
from controller.values.status import Status


def status_of(config: Config, now: float, state: str, resolution: Resolution,
              snap: Snapshot | None, est: GridEstimate | None, disp: DispatchResult | None,
              protection: ProtectionResult | None, latched: Set[str], blocked: str | None,
              stopping: bool, ev_phase: str | None = None,
              ev_plug_soc_pct: float | None = None) -> Status:
    """``ev_plug_soc_pct``: the SoC the vehicle last reported since plug-in, past its
    placeholder frames (the EV session's ``plug_soc_pct``). The status shows it, also once the
    vehicle fell silent (after the SoC read on plug-in); the raw report is not shown: during
    the parameter exchange it can carry a placeholder's scale."""
    meter = snap.meter if snap is not None else None
    inverter_w = None
    if snap is not None and snap.inverter is not None and snap.contactors["ac"].feedback_closed:
        inverter_w = snap.inverter.ac_power_w
    ev_w = None
    if snap is not None:
        age = config.protection.sensor_max_age_s
        v, i = snap.analog_value("dc_link_v", age), snap.analog_value("dc_current_a", age)
        if v is not None and i is not None:
            ev_w = v * i if snap.contactors["dc"].feedback_closed else 0.0
    home_w = None
    if meter is not None:
        home_w = meter.grid_power_w + meter.pv_power_w - (inverter_w or 0.0)
    grid = protection.grid if protection else None
    return Status(
        t=snap.t if snap else now, state=state,
        request=resolution.mode, request_source=resolution.mode_source,
        power_limit_w=resolution.power_w, power_winner=resolution.power_source,
        grid_voltage_v=est.voltage_v if est else None,
        grid_frequency_hz=est.frequency_hz if est else None,
        grid_ok=grid.ok if grid else False, grid_reason=grid.reason if grid else "",
        ev_soc_pct=ev_plug_soc_pct,
        grid_power_w=meter.grid_power_w if meter else None, home_power_w=home_w,
        ev_power_w=ev_w, pv_power_w=meter.pv_power_w if meter else None,
        commanded_power_w=disp.command.p_set_w if disp else 0.0,
        dispatch_note=disp.note if disp else "",
        faults=tuple(sorted(latched)),
        blocked=blocked,
        stopping=stopping,
        ev_phase=ev_phase,
    )
