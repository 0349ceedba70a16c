"""The charger's frames for one cycle, from the settings, the measurements and the phase."""

from __future__ import annotations

import math

from controller.config.ev_settings import EvSettings
from controller.ev.link import HostView, Stage
from hal.protocols.chademo_charger import ChargerFrames, DischargeFrames


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


def build_frames(s: EvSettings, view: HostView, *, locked: bool, charging: bool,
                 incompatible: bool, discharge: bool) -> ChargerFrames:
    """0x108 threshold: the charger maximum until the EV's limits are known, then the smaller
    of the two (as the real chargers in the recorded sessions do). 109.5.5 (stop control) is
    set in every frame that does not set 109.5.0."""
    report = view.report
    threshold = s.available_voltage_v
    if report is not None and report.max_battery_voltage_v > 0.0:
        threshold = min(threshold, report.max_battery_voltage_v)
    voltage = max(0.0, _finite(view.output_v))
    current = _finite(view.current_a)
    lower = s.lower_threshold_voltage_v
    if report is not None:
        lower = max(lower, report.min_discharge_voltage_v)
    return ChargerFrames(
        protocol_number=s.protocol_number,
        available_voltage_v=s.available_voltage_v,
        available_current_a=s.available_current_a,
        threshold_voltage_v=threshold,
        present_voltage_v=voltage,
        present_current_a=max(0.0, current),
        charging=charging,
        malfunction=view.stage is Stage.LATCHED,
        connector_locked=locked,
        battery_incompatible=incompatible,
        system_malfunction=False,
        stop_control=not charging,
        discharge=DischargeFrames(
            present_discharge_current_a=max(0.0, -current),
            available_input_voltage_v=s.available_voltage_v,
            available_input_current_a=s.discharge_current_a,
            lower_threshold_voltage_v=lower) if discharge else None,
    )
