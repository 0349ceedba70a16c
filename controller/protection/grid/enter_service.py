"""IEEE 1547-2018 enter service (also the return to service after any trip).

Out of service (after a trip, a loss of the utility, an island, or permit service withdrawn),
the charger may energise again only once the grid has stayed inside the enter-service window
(0.917-1.05 p.u., nominal -0.5/+0.1 Hz by default) for the whole delay; any excursion restarts
the timer. After entering, discharge power ramps from zero to full over the enter-service
period (:meth:`EnterService.power_fraction`). At start-up the controller knows nothing of the
grid's history: it enters service as soon as the grid is inside the window
(docs/grid-protection.md).
"""

from __future__ import annotations

from controller.config.model import GridProtectionSettings
from controller.measurement.grid_estimator import GridEstimate


class EnterService:
    def __init__(self, settings: GridProtectionSettings, nominal_hz: float,
                 delay_s: float) -> None:
        self._v = (settings.enter_service_voltage_min_pu, settings.enter_service_voltage_max_pu)
        self._f = settings.enter_service_frequency_hz(nominal_hz)
        self.delay_s = delay_s
        self.ramp_s = settings.enter_service_ramp_s
        self.permit = settings.permit_service
        self.in_service = False
        self._first = True  # start-up: the window alone
        self._inside_since: float | None = None
        self._entered_at: float | None = None

    def leave(self, trip: bool = True) -> None:
        """A trip, a loss of the utility or an island: out of service. A loss of voltage
        before the charger ever entered service (start-up) keeps the start-up rule."""
        self._first = self._first and not trip and not self.in_service
        self.in_service = False
        self._inside_since = None
        self._entered_at = None

    def set_permit(self, permit: bool) -> None:
        if not permit and self.permit:
            self.leave()
        self.permit = permit

    def window_excursion(self, est: GridEstimate) -> str:
        if not self._v[0] <= est.voltage_pu <= self._v[1]:
            return (f"voltage {est.voltage_pu:.3f} p.u. outside the enter-service window "
                    f"{self._v[0]:g}-{self._v[1]:g} p.u.")
        if not self._f[0] <= est.frequency_hz <= self._f[1]:
            return (f"frequency {est.frequency_hz:.2f} Hz outside the enter-service window "
                    f"{self._f[0]:g}-{self._f[1]:g} Hz")
        return ""

    def update(self, t: float, est: GridEstimate) -> str:
        """Advance; the reason the charger is not (yet) in service, or "" when it is."""
        if not self.permit:
            return "permit service is disabled"
        if self.in_service:
            return ""
        excursion = self.window_excursion(est)
        if excursion:
            self._inside_since = None
            return f"entering service: {excursion}"
        if self._inside_since is None:
            self._inside_since = t
        held = t - self._inside_since
        if self._first or held >= self.delay_s - 1e-9:
            self.in_service = True
            self._entered_at = None if self._first else t  # no ramp at start-up
            self._first = False
            return ""
        return (f"entering service: grid inside the window for {held:.0f} of "
                f"{self.delay_s:g} s")

    def power_fraction(self, t: float) -> float:
        """Share of full discharge power allowed: ramps 0 -> 1 over the enter-service period."""
        if not self.in_service:
            return 0.0
        if self._entered_at is None:
            return 1.0
        return min(1.0, max(0.0, (t - self._entered_at) / self.ramp_s))
