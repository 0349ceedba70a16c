"""DC over-voltage against the EV's maximum battery voltage; DC over-current against the
smallest of the EV's, the inverter's and the cable's current limits: two monitors."""

from __future__ import annotations

from controller.config.model import Config, ProtectionSettings
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode


class DcVoltageMonitor:
    """DC_OVERVOLTAGE at once when the DC link is above the EV's maximum battery voltage plus
    ``protection.dc_overvoltage_margin_v`` (no EV report: nothing to compare with)."""

    def __init__(self, settings: ProtectionSettings) -> None:
        self._margin = settings.dc_overvoltage_margin_v
        self._max_age = settings.sensor_max_age_s

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        if snap.ev is None:
            return QUIET
        link = snap.analog_value("dc_link_v", self._max_age)
        limit = snap.ev.max_battery_voltage_v + self._margin
        if link is not None and link > limit:
            return finding(Trip(FaultCode.DC_OVERVOLTAGE,
                                f"DC link {link:.1f} V above {limit:.1f} V", link, limit))
        return QUIET


class DcCurrentMonitor:
    """DC_OVERCURRENT when |I| exceeds the direction's smallest limit plus a margin for longer
    than the delay. Charging: the EV's request, the inverter and the cable; discharging: the
    EV's discharge maximum, the inverter and the cable."""

    def __init__(self, config: Config) -> None:
        self._margin = config.safety.dc_current.margin_a
        self._delay = config.safety.dc_current.delay_s
        self._fixed = min(config.inverter.max_dc_current_a, config.limits.cable_max_current_a)
        self._max_age = config.protection.sensor_max_age_s
        self._since: float | None = None

    def limit_a(self, snap: Snapshot, current_a: float) -> float:
        limit = self._fixed
        if snap.ev is not None:
            ev = (snap.ev.charge_current_request_a if current_a >= 0
                  else snap.ev.max_discharge_current_a)
            limit = min(limit, ev)
        return limit + self._margin

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        current = snap.analog_value("dc_current_a", self._max_age)
        if current is None:
            self._since = None
            return QUIET
        limit = self.limit_a(snap, current)
        if abs(current) <= limit:
            self._since = None
            return QUIET
        if self._since is None:
            self._since = snap.t
        if snap.t - self._since < self._delay - 1e-9:
            return QUIET
        return finding(Trip(FaultCode.DC_OVERCURRENT, f"DC current {current:.1f} A beyond "
                            f"{limit:.1f} A for {snap.t - self._since:.2f} s", abs(current),
                            limit))
