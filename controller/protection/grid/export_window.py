"""The v2g export window (``[protection]``): stops export on a grid outside it, after its delay.

This was the project's first grid check, a plain voltage/frequency window that stopped all
power; IEEE 1547-2018 trips, ride-through and enter service (the rest of this package) replaced
it, and what is left is a discretionary service for the grid operator: while v2g export is
wanted, a grid outside ``voltage_min_pu``-``voltage_max_pu`` and the frequency window for
``abnormal_trip_delay_s`` stops export. It does not take the charger out of service, and it is
not a latched fault (docs/grid-protection.md).

It never overrides IEEE 1547 ride-through: an exporting charger is a DER, and where the
standard requires operation (the continuous and mandatory regions of voltage and frequency)
the window does not act; it may stop export only where the standard lets a DER cease
(permissive or momentary-cessation regions, beyond the frequency ride-through band), and there
the trip elements still decide about a trip. Momentary cessation counts as required operation:
the DER ceases and restores, it does not stop.
"""

from __future__ import annotations

from controller.config.model import ProtectionSettings
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.grid.ride_through import assess

# Ride-through modes: operate (or, in momentary cessation, cease without tripping and restore).
OPERATION_REQUIRED = frozenset({"continuous", "mandatory", "momentary_cessation"})


class ExportWindow:
    def __init__(self, settings: ProtectionSettings, category: str, nominal_hz: float) -> None:
        self._category = category
        self._nominal_hz = nominal_hz
        self._v = (settings.voltage_min_pu, settings.voltage_max_pu)
        self._f = settings.frequency_window_hz(nominal_hz)
        self._delay = settings.abnormal_trip_delay_s
        self._abnormal_since: float | None = None
        self._stopped = False

    def update(self, t: float, est: GridEstimate) -> str:
        """Why export is stopped now, or "" (called only while export is wanted)."""
        v, f = est.voltage_pu, est.frequency_hz
        inside = self._v[0] <= v <= self._v[1] and self._f[0] <= f <= self._f[1]
        if inside or self._operation_required(v, f):
            self._abnormal_since = None
            self._stopped = False
            return ""
        if self._abnormal_since is None:
            self._abnormal_since = t
        if t - self._abnormal_since >= self._delay:
            self._stopped = True
        if not self._stopped:
            return ""
        return (f"v2g export window: {v:.3f} p.u. / {f:.2f} Hz outside "
                f"{self._v[0]:g}-{self._v[1]:g} p.u., "
                f"{self._f[0]:.2f}-{self._f[1]:.2f} Hz")

    def _operation_required(self, voltage_pu: float, frequency_hz: float) -> bool:
        """IEEE 1547-2018 requires the DER to keep operating here (ride-through)."""
        ride = assess(self._category, self._nominal_hz, voltage_pu, frequency_hz)
        return (ride.voltage_mode in OPERATION_REQUIRED
                and ride.frequency_mode in OPERATION_REQUIRED)
