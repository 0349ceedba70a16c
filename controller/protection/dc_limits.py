"""DC over-voltage against the EV's own maximum battery voltage."""

from __future__ import annotations

from controller.config.model import ProtectionSettings
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot


def check_dc_limits(snap: Snapshot, settings: ProtectionSettings) -> Trip | None:
    if snap.ev is None:
        return None
    link = snap.analog_value("dc_link_v", settings.sensor_max_age_s)
    limit = snap.ev.max_battery_voltage_v + settings.dc_overvoltage_margin_v
    if link is not None and link > limit:
        return Trip("DC_OVERVOLTAGE", f"DC link {link:.1f} V above {limit:.1f} V", link, limit)
    return None
