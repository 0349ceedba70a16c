"""What the charger checks while the vehicle may be live: its faults, the current, the voltage,
the discharge floors. Pure functions of the report and the measurements (plus one timer)."""

from __future__ import annotations

import math

from controller.config.ev_settings import EvSettings
from controller.ev.chademo.phases import (
    EV_CURRENT_DEVIATION,
    EV_NOT_IN_PARK,
    EV_SYSTEM_FAULT,
    EV_VOLTAGE_WINDOW,
    FAULT_BIT_CODES,
)
from controller.ev.link import EvTrip
from controller.protection.debounce import HeldFor
from hal.protocols.ev_messages import EvReport


def reported_faults(report: EvReport) -> list[EvTrip]:
    """Each fault bit of 0x102 byte 4 and the fault status bits, one named fault each."""
    trips = [EvTrip(code, f"the EV reports 0x102 byte 4 bit {bit} ({code})")
             for bit, code in enumerate(FAULT_BIT_CODES) if report.fault_flags >> bit & 1]
    if report.system_fault:
        trips.append(EvTrip(EV_SYSTEM_FAULT, "the EV reports a charging-system fault "
                            "(102.5.2)"))
    if report.shift_not_park:
        trips.append(EvTrip(EV_NOT_IN_PARK, "the EV reports its shift lever out of Park "
                            "(102.5.1)"))
    return trips


def voltage_outside(report: EvReport, output_v: float | None) -> EvTrip | None:
    """The output above the EV's maximum battery voltage, or (the EV's contactors closed)
    below its minimum. A missing or non-finite reading is not in the window either."""
    if output_v is None or not math.isfinite(output_v):
        return EvTrip(EV_VOLTAGE_WINDOW, "output voltage not measurable while the EV is live")
    if output_v > report.max_battery_voltage_v:
        return EvTrip(EV_VOLTAGE_WINDOW, f"output {output_v:.0f} V above the EV's maximum "
                      f"{report.max_battery_voltage_v:.0f} V")
    if output_v < report.min_battery_voltage_v:
        return EvTrip(EV_VOLTAGE_WINDOW, f"output {output_v:.0f} V below the EV's minimum "
                      f"{report.min_battery_voltage_v:.0f} V")
    return None


class DeviationTimer:
    """Output current above the EV's request (charging) or limit (discharging) by
    ``current_deviation_a`` for ``current_deviation_s`` (102.4.2's rule, seen from the charger)."""

    def __init__(self, settings: EvSettings) -> None:
        self._settings = settings
        self._held = HeldFor()

    def update(self, now: float, report: EvReport, current_a: float | None) -> EvTrip | None:
        s = self._settings
        excess = 0.0
        if current_a is not None and math.isfinite(current_a):
            allowed = (report.charge_current_request_a if current_a >= 0.0
                       else report.max_discharge_current_a)
            excess = abs(current_a) - allowed
        held = self._held.held(now, excess >= s.current_deviation_a)
        if held >= s.current_deviation_s:
            return EvTrip(EV_CURRENT_DEVIATION, f"output current {current_a:.1f} A beyond the "
                          f"EV's request or limit by {excess:.1f} A for {held:.1f} s")
        return None


def discharge_floor(report: EvReport, output_v: float | None, lower_threshold_v: float,
                    was_positive: bool) -> str | None:
    """Why the discharge must end, if it must: the EV's limit fell to zero (after it was
    positive), the voltage reached the higher of the two thresholds, the SoC its floor."""
    if was_positive and report.max_discharge_current_a <= 0.0:
        return "the EV's maximum discharge current fell to zero"
    floor_v = max(report.min_discharge_voltage_v, lower_threshold_v)
    if output_v is not None and math.isfinite(output_v) and output_v <= floor_v:
        return f"output {output_v:.0f} V at the discharge floor {floor_v:.0f} V"
    if report.soc_pct <= report.min_discharge_soc_pct:
        return (f"SoC {report.soc_pct:.0f} % at the EV's minimum discharge level "
                f"{report.min_discharge_soc_pct:.0f} %")
    return None
