"""Grid voltage/frequency window with a trip delay: abnormal grid -> stop and stay stopped.

This is not a latched fault (the utility is not broken equipment): while the grid is abnormal,
nothing energises and an energised charger stops. The grid-protection issue replaces it with the
IEEE 1547-2018 trip elements and enter-service logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.config.model import GridSettings, ProtectionSettings
from controller.measurement.grid_estimator import GridEstimate


@dataclass(frozen=True, slots=True)
class GridVerdict:
    ok: bool
    reason: str


class GridWindow:
    """Observes the estimate; ``ok`` only after the grid has been inside its window."""

    def __init__(self, grid: GridSettings, settings: ProtectionSettings) -> None:
        self._nominal_v = grid.nominal_voltage_v
        self._v_min, self._v_max = settings.voltage_min_pu, settings.voltage_max_pu
        self._f_min, self._f_max = settings.frequency_window_hz(grid.nominal_frequency_hz)
        self._delay = settings.abnormal_trip_delay_s
        self._abnormal_since: float | None = None
        self._tripped = True  # not proven healthy yet

    def _excursion(self, est: GridEstimate | None) -> str:
        if est is None or not est.voltage_present:
            return "no grid voltage"
        if not self._v_min <= est.voltage_pu <= self._v_max:
            return (f"voltage {est.voltage_v:.1f} V ({est.voltage_pu:.3f} p.u.) outside "
                    f"{self._v_min}-{self._v_max} p.u.")
        if not self._f_min <= est.frequency_hz <= self._f_max:
            return (f"frequency {est.frequency_hz:.2f} Hz outside "
                    f"{self._f_min:.2f}-{self._f_max:.2f} Hz")
        return ""

    def update(self, t: float, est: GridEstimate | None) -> GridVerdict:
        reason = self._excursion(est)
        if not reason:
            self._abnormal_since = None
            self._tripped = False
            return GridVerdict(True, "grid normal")
        if est is None or not est.voltage_present:
            self._tripped = True  # loss of voltage needs no delay
        elif self._abnormal_since is None:
            self._abnormal_since = t
        if self._abnormal_since is not None and t - self._abnormal_since >= self._delay:
            self._tripped = True
        return GridVerdict(not self._tripped, reason)
