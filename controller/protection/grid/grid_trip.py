"""The controller's own IEEE 1547-2018 trip elements: the second layer behind the inverter's.

Each element (OV2, OV1, UV1, UV2, OF2, OF1, UF1, UF2) runs a timer on the controller's own meter
estimate; when its condition has held for the clearing time the element trips: the grid verdict
turns bad, so the charger ceases (dispatch zero, inverter off) and afterwards re-enters service
only through the enter-service criteria. If the inverter is still delivering power
``cease_grace_s`` after that, :class:`CeaseWatch` trips ``GRID_CEASE_FAILED`` and the
controller opens the contactors itself. Voltage elements see the undervoltage of a dead bus too;
a lost voltage is handled before (it needs no delay).
"""

from __future__ import annotations

from controller.config.grid_codes import TripElement
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode

CEASED_FRACTION = 0.05  # IEEE 1547.1 cease to energise: current below 5 % of rating


class GridTripElements:
    """Per-element timers; ``update`` returns the element that trips now (or None)."""

    def __init__(self, elements: tuple[TripElement, ...]) -> None:
        self.elements = elements
        self._since: dict[str, float] = {}

    def reset(self) -> None:
        self._since.clear()

    def update(self, t: float, voltage_pu: float, frequency_hz: float) -> TripElement | None:
        tripped: TripElement | None = None
        for element in self.elements:
            if not element.outside(voltage_pu, frequency_hz):
                self._since.pop(element.name, None)
                continue
            since = self._since.setdefault(element.name, t)
            if tripped is None and t - since >= element.clearing_time_s - 1e-9:
                tripped = element
        if tripped is not None:
            self._since.clear()
        return tripped

    def pending(self, t: float) -> str:
        """The running timers, for the status line (``"OV1 1.2/2 s"``)."""
        by_name = {e.name: e for e in self.elements}
        return ", ".join(f"{by_name[n].label} {t - s:.1f}/{by_name[n].clearing_time_s:g} s"
                         for n, s in self._since.items())


class CeaseWatch:
    """After a controller trip, the inverter must have ceased within ``grace_s``. The grid
    window arms and disarms it; as a monitor it only watches the inverter's status."""

    def __init__(self, grace_s: float, rated_power_w: float) -> None:
        self._grace = grace_s
        self._limit_w = CEASED_FRACTION * rated_power_w
        self._armed_at: float | None = None
        self._what = ""

    def arm(self, t: float, what: str) -> None:
        self._armed_at, self._what = t, what

    def disarm(self) -> None:
        self._armed_at = None

    def update(self, seen: ProtectionInput) -> Finding:
        if self._armed_at is None:
            return QUIET
        snap = seen.snap
        status = snap.inverter
        delivering = status is not None and abs(status.ac_power_w) > self._limit_w
        if not delivering:
            return QUIET
        late = snap.t - self._armed_at
        if late < self._grace:
            return QUIET
        self._armed_at = None
        power = status.ac_power_w if status is not None else 0.0
        return finding(Trip(FaultCode.GRID_CEASE_FAILED,
                            f"{self._what}; the inverter still exchanged {power:.0f} W "
                            f"{late:.2f} s later", abs(power), self._limit_w))
