"""DC over-voltage against the EV's maximum battery voltage; DC over-current against the
smallest of the EV's, the inverter's and the cable's current limits."""

from __future__ import annotations

from controller.config.model import Config, ProtectionSettings
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot


def check_dc_limits(snap: Snapshot, settings: ProtectionSettings) -> Trip | None:
    if snap.ev is None:
        return None
    link = snap.analog_value("dc_link_v", settings.sensor_max_age_s)
    limit = snap.ev.max_battery_voltage_v + settings.dc_overvoltage_margin_v
    if link is not None and link > limit:
        return Trip("DC_OVERVOLTAGE", f"DC link {link:.1f} V above {limit:.1f} V", link, limit)
    return None


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

    def update(self, snap: Snapshot) -> Trip | None:
        current = snap.analog_value("dc_current_a", self._max_age)
        if current is None:
            self._since = None
            return None
        limit = self.limit_a(snap, current)
        if abs(current) <= limit:
            self._since = None
            return None
        if self._since is None:
            self._since = snap.t
        if snap.t - self._since < self._delay - 1e-9:
            return None
        return Trip("DC_OVERCURRENT", f"DC current {current:.1f} A beyond {limit:.1f} A "
                    f"for {snap.t - self._since:.2f} s", abs(current), limit)
