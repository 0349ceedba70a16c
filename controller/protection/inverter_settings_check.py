"""The inverter must run the protection settings it was sent: read-back mismatch is a fault.

A problem (no read-back, a stale one, or one that differs from what was written) is normal for a
moment after start-up or after a settings change; it becomes a trip only when it lasts longer
than the grace period while the charger is energised or asked to energise. The mode machine
refuses to energise in the meantime (``ModeLogic.may_energise``).
"""

from __future__ import annotations

from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode

GRACE_S = 3.0  # about three settings write / read-back rounds (SettingsSync retries every 1 s)


class InverterSettingsCheck:
    """Energy is wanted when the charger is energised or a mode other than idle is requested."""

    def __init__(self, grace_s: float = GRACE_S) -> None:
        self._grace = grace_s
        self._since: float | None = None

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        energy_wanted = seen.energised or seen.energy_wanted
        problem = snap.inverter_settings_problem
        if problem is None:
            self._since = None
            return QUIET
        if self._since is None:
            self._since = snap.t
        lasted = snap.t - self._since
        if energy_wanted and lasted > self._grace:
            return finding(Trip(FaultCode.INVERTER_SETTINGS, f"{problem} (for {lasted:.1f} s)",
                                lasted, self._grace))
        return QUIET
