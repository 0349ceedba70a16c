"""The grid verdict: may the charger run in parallel with the utility now?

IEEE 1547-2018 behaviour on the controller's own meter (docs/grid-protection.md), in order:

1. no utility voltage: out of service at once (``island`` stays False: the meter sees the loss);
2. the islanding backstop (:mod:`controller.protection.grid.islanding`): out of service, ``island``;
3. the eight trip elements (:mod:`controller.protection.grid.grid_trip`): out of service, and the
   inverter must have ceased within ``cease_grace_s`` (else ``GRID_CEASE_FAILED``);
4. out of service: enter service (:mod:`controller.protection.grid.enter_service`) - the window for
   the whole delay, permit service;
5. v2g export only: the export window with its delay
   (:mod:`controller.protection.grid.export_window`, ``[protection]``: a discretionary service
   for the grid operator; it stops export, it does not take the charger out of service). It
   never acts where IEEE 1547 requires operation (continuous and mandatory ride-through).

A grid trip only the inverter saw (its FaultWord's grid bits, ``GRID_CONDITION_CODES``) takes the
charger out of service as the controller's own would: the return needs the enter-service delay
and ramp (IEEE 1547 4.10). An island the inverter detected (``INV_ISLANDING``) is this window's
island (backup where allowed, else out of service), not a latched fault: the inverter has
ceased, the utility is gone. The window reads both from the snapshot at the start of ``update``.

Inside the ride-through regions nothing here acts before the trip elements' clearing times, so
ride-through holds. The verdict is not a latched fault: the utility is not broken equipment.
"""

from __future__ import annotations

from controller.config.grid_codes import TripElement, resolve_trips
from controller.config.model import Config
from controller.config.rules import trip_overrides
from controller.faults import GRID_CONDITION_CODES, INVERTER_ISLAND_CODE
from controller.measurement.grid_estimator import GridEstimate
from controller.protection.grid.enter_service import EnterService
from controller.protection.grid.export_window import ExportWindow
from controller.protection.grid.grid_trip import CeaseWatch, GridTripElements
from controller.protection.grid.islanding import DISCHARGING_FRACTION, IslandingBackstop
from controller.protection.grid.ride_through import assess
from controller.protection.grid.verdict import GridVerdict
from controller.protection.inverter_faults import check_inverter_faults
from controller.values.snapshot import Snapshot
from hal.protocols.inverter_messages import InverterState

__all__ = ["GridVerdict", "GridWindow"]


class GridWindow:
    """Observes the estimate and the snapshot; owns the enter-service state."""

    def __init__(self, config: Config) -> None:
        grid, inv = config.grid, config.inverter
        self._category = inv.ride_through_category
        self._nominal_hz = grid.nominal_frequency_hz
        self.elements: tuple[TripElement, ...] = resolve_trips(
            self._category, self._nominal_hz, trip_overrides(config))
        self._trips = GridTripElements(self.elements)
        gp = config.grid_protection
        self.enter_service = EnterService(gp, self._nominal_hz, config.backup.return_delay_s)
        self._export_service = EnterService(gp, self._nominal_hz, config.backup.return_delay_s)
        self._discharging_w = DISCHARGING_FRACTION * inv.rated_power_w
        self._island = IslandingBackstop(gp, self._category, self._nominal_hz,
                                         inv.rated_power_w)
        self.cease_watch = CeaseWatch(gp.cease_grace_s, inv.rated_power_w)
        self._export_window = ExportWindow(config.protection, self._category, self._nominal_hz)
        self.last_trip: str = ""
        self._island_suspected = False  # until the charger is in service again
        self._reported_island = ""  # the inverter's own island report, this tick only

    def set_permit_service(self, permit: bool) -> None:
        self.enter_service.set_permit(permit)

    def island_reported(self, why: str) -> None:
        """The inverter reports an island this tick (its active anti-islanding tripped)."""
        self._reported_island = why

    def leave_service(self, why: str) -> None:
        """A trip seen elsewhere (the inverter's own elements): out of service, as after the
        controller's own trip. Called every tick the trip is reported, so the enter-service
        delay counts from when it has cleared."""
        self.enter_service.leave()
        self._trips.reset()
        self.last_trip = why

    def _inverter_reports(self, snap: Snapshot) -> None:
        """The inverter's own grid trips and island report (its FaultWord) this tick."""
        for trip in check_inverter_faults(snap):
            if trip.code in GRID_CONDITION_CODES:
                self.leave_service(f"{trip.code}: the inverter's own trip")
            if trip.code == INVERTER_ISLAND_CODE:
                self.island_reported(f"the inverter's anti-islanding ({trip.detail})")

    def update(self, t: float, est: GridEstimate | None, snap: Snapshot | None = None,
               export_wanted: bool = False) -> GridVerdict:
        es = self.enter_service
        if snap is not None and snap.inverter is not None and snap.inverter.fault_word:
            self._inverter_reports(snap)
        if est is None or not est.voltage_present:
            es.leave(trip=False)
            self._export_service.leave(trip=False)
            self._reported_island = ""
            self._island_suspected = False
            self._trips.reset()
            self._island.reset()
            self.cease_watch.disarm()
            return GridVerdict(False, "no grid voltage")
        # Tracked every tick with voltage, so the delay counts while out of service too.
        export_fraction, export_reason = self._export_entry(t, est, snap)
        island = self._island.update(t, est, snap, export_wanted) if snap is not None else ""
        island = island or self._reported_island
        self._reported_island = ""
        if island:
            es.leave()
            self._island.reset()
            self._island_suspected = True
            self.last_trip = f"island suspected: {island}"
            return GridVerdict(False, self.last_trip, island=True)
        element = None
        if es.in_service:
            element = self._trips.update(t, est.voltage_pu, est.frequency_hz)
        else:
            self._trips.reset()  # out of service nothing is energised: nothing to trip
        if element is not None:
            es.leave()
            value = (f"{est.voltage_pu:.3f} p.u." if element.voltage
                     else f"{est.frequency_hz:.2f} Hz")
            side = "above" if element.over else "below"
            unit = "p.u." if element.voltage else "Hz"
            self.last_trip = (f"{element.label} trip: {value} {side} {element.threshold:g} {unit} "
                              f"for {element.clearing_time_s:g} s")
            self.cease_watch.arm(t, self.last_trip)
            return GridVerdict(False, self.last_trip, tripped=element.label)
        in_window = not es.window_excursion(est)
        waiting = es.update(t, est)
        if waiting:
            reason = waiting if not self.last_trip else f"{waiting} (after {self.last_trip})"
            return GridVerdict(False, reason, in_window=in_window,
                               island=self._island_suspected)
        self.cease_watch.disarm()
        self._island_suspected = False
        export = self._export_window.update(t, est) if export_wanted else ""
        if export:
            return GridVerdict(False, export, in_window=in_window)
        ride = assess(self._category, self._nominal_hz, est.voltage_pu, est.frequency_hz)
        pending = self._trips.pending(t)
        reason = "grid normal" if ride.describe == "continuous operation" else (
            f"riding through: {ride.describe}" + (f" ({pending})" if pending else ""))
        if export_wanted and export_reason:
            reason = f"{reason}; {export_reason}"
        return GridVerdict(True, reason, in_window=in_window,
                           power_fraction=es.power_fraction(t),
                           export_fraction=export_fraction if export_wanted else 1.0,
                           export_reason=export_reason if export_wanted else "")

    def _export_entry(self, t: float, est: GridEstimate,
                      snap: Snapshot | None) -> tuple[float, str]:
        """Export may start only as entering service does: the grid inside the enter-service
        window, for the whole delay since any excursion seen while the charger was not
        discharging (start-up, before any excursion: at once), then the ramp. Once the charger
        discharges it is in service: ride-through, not this window, applies (also while it
        ceases for a moment in a momentary-cessation region)."""
        xs = self._export_service
        inverter = snap.inverter if snap is not None else None
        # In service as a DER: running grid-following and not importing (discharging, or
        # ceased for a moment in a momentary-cessation region, or held at zero).
        serving = (inverter is not None and inverter.state is InverterState.GRID_FOLLOWING
                   and inverter.ac_power_w < self._discharging_w)
        if not serving and xs.in_service and xs.window_excursion(est):
            xs.leave(trip=False)
        waiting = "" if serving and xs.in_service else xs.update(t, est)
        if waiting:
            return 0.0, f"export waits: {waiting}"
        return xs.power_fraction(t), ""
