"""The controller's islanding backstop: the second layer behind the inverter's active method.

The inverter's firmware runs the certified active anti-islanding (Sandia frequency shift) and
its fast trips. The controller adds, on its own meter at the PCC (ARCHITECTURE.md section 2):

- ROCOF beyond the category's ride-through ROCOF (0.5 / 2 / 3 Hz/s) plus a margin;
- vector shift: a voltage phase step beyond the 20 degree ride-through (when the estimator
  reports ``phase_jump_deg``);
- frequency drift: beyond the frequency ride-through band (57.0-61.8 Hz at 60 Hz) and still
  moving away from nominal;
- minimum import (non-export V2H, IEEE 1547.1 5.10.5): while the inverter discharges
  grid-following with K_GRID closed and no export is wanted, import at the PCC below
  ``min_import_w``: the utility no longer holds the bus.

Each condition must hold ``islanding_confirm_s`` (minimum import: ``min_import_time_s``);
none can act inside a ride-through region, so ride-through never causes a nuisance trip.
"""

from __future__ import annotations

from controller.config.model import GridProtectionSettings
from controller.measurement.estimators import wrap_deg
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.debounce import HeldFor
from controller.protection.grid.ride_through import (
    beyond_frequency_ride_through,
    rocof_limit_hz_per_s,
)
from controller.values.snapshot import Snapshot
from controller.vocabulary import Contactor
from hal.protocols.inverter_messages import InverterState

_GRID = Contactor.GRID.value  # bound once (controller/vocabulary.py)
ROCOF_MARGIN_HZ_PER_S = 1.0
DRIFT_MIN_RATE_HZ_PER_S = 0.1  # "still moving away"
DISCHARGING_FRACTION = 0.01  # of the rating: below this the inverter is not feeding the bus


class IslandingBackstop:
    def __init__(self, settings: GridProtectionSettings, category: str, nominal_hz: float,
                 rated_power_w: float) -> None:
        self._s = settings
        self._nominal = nominal_hz
        self.rocof_trip = (settings.rocof_trip_hz_per_s
                           if settings.rocof_trip_hz_per_s is not None
                           else rocof_limit_hz_per_s(category) + ROCOF_MARGIN_HZ_PER_S)
        self._discharging_w = DISCHARGING_FRACTION * rated_power_w
        self._rocof, self._drift, self._import = HeldFor(), HeldFor(), HeldFor()

    def reset(self) -> None:
        self._rocof.since = self._drift.since = self._import.since = None

    def update(self, t: float, est: GridEstimate, snap: Snapshot, export_wanted: bool) -> str:
        """Why an island is suspected now (confirmed), or ""."""
        s = self._s
        confirm = s.islanding_confirm_s
        rocof = est.rocof_hz_per_s
        if self._rocof.held(t, abs(rocof) > self.rocof_trip) >= confirm:
            return (f"ROCOF {rocof:+.2f} Hz/s beyond {self.rocof_trip:g} Hz/s (ride-through "
                    f"{self.rocof_trip - ROCOF_MARGIN_HZ_PER_S:g} Hz/s)")
        jump = getattr(est, "phase_jump_deg", None)
        if isinstance(jump, float):
            jump = wrap_deg(jump)  # an angle: -340 degrees is +20
        if isinstance(jump, float) and abs(jump) > s.vector_shift_trip_deg:
            return f"vector shift {jump:+.0f} deg beyond {s.vector_shift_trip_deg:g} deg"
        dev = est.frequency_hz - self._nominal
        away = dev * rocof > 0.0 and abs(rocof) > DRIFT_MIN_RATE_HZ_PER_S
        drifting = beyond_frequency_ride_through(self._nominal, est.frequency_hz) and away
        if self._drift.held(t, drifting) >= confirm:
            return (f"frequency drifting away ({est.frequency_hz:.2f} Hz, {rocof:+.2f} Hz/s) "
                    "beyond the ride-through band")
        if self._import.held(t, self._min_import_applies(snap, export_wanted)
                             and self._import_w(snap) < s.min_import_w) >= s.min_import_time_s:
            return (f"grid import {self._import_w(snap):.0f} W below {s.min_import_w:g} W "
                    f"for {s.min_import_time_s:g} s while discharging (minimum-import relay)")
        return ""

    def _min_import_applies(self, snap: Snapshot, export_wanted: bool) -> bool:
        status = snap.inverter
        grid = snap.contactors.get(_GRID)
        return (not export_wanted and status is not None and snap.meter is not None
                and status.state is InverterState.GRID_FOLLOWING
                and status.ac_power_w < -self._discharging_w
                and grid is not None and grid.feedback_closed is not False)

    @staticmethod
    def _import_w(snap: Snapshot) -> float:
        return snap.meter.grid_power_w if snap.meter is not None else 0.0
