"""The inverter must run the protection settings it was sent: read-back mismatch is a fault.

A problem (no read-back, a stale one, or one that differs from what was written) is normal for a
moment after start-up or after a settings change; it becomes a trip only when it lasts longer
than the grace period while the charger is energised or asked to energise. The mode machine
refuses to energise in the meantime (``ModeLogic.may_energise``).
"""

from __future__ import annotations

from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot

GRACE_S = 3.0  # about three settings write / read-back rounds (SettingsSync retries every 1 s)


class InverterSettingsCheck:
    def __init__(self, grace_s: float = GRACE_S) -> None:
        self._grace = grace_s
        self._since: float | None = None

    def update(self, snap: Snapshot, energy_wanted: bool) -> Trip | None:
        problem = snap.inverter_settings_problem
        if problem is None:
            self._since = None
            return None
        if self._since is None:
            self._since = snap.t
        lasted = snap.t - self._since
        if energy_wanted and lasted > self._grace:
            return Trip("INVERTER_SETTINGS", f"{problem} (for {lasted:.1f} s)", lasted,
                        self._grace)
        return None
