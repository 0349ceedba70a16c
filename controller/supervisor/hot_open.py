"""The controller's own record of K_DC opened under load (invariant 7, as it saw it)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from controller.config.model import Config
from controller.faults import CATALOGUE, UNTRUSTED_INVERTER, Severity
from controller.modes.plan import PlannedOutputs
from controller.values.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class HotOpen:
    """K_DC commanded open under load, as the controller itself saw it."""

    t: float
    emergency: bool  # an EMERGENCY fault was latched (the one case invariant 7 allows)
    current_a: float | None  # the DC current measured (None: unknown, stale)
    state: str
    text: str


def hot_open(snap: Snapshot, plan: PlannedOutputs, config: Config, latched: Set[str], state: str,
             why: str) -> HotOpen | None:
    """K_DC was commanded closed and this tick's plan commands it open while the DC current the
    controller knows (its own sensor, and a trusted fresh inverter status) is at or above
    ``sequence.open_below_current_a`` (or unknown): the record, else None. Outside an
    emergency it is a defect the scenario verdicts and the invariant checker report."""
    if not snap.contactors["dc"].commanded_closed or plan.contactors.get("dc", False):
        return None
    limit = config.sequence.open_below_current_a
    current = snap.analog_value("dc_current_a", config.protection.sensor_max_age_s)
    # The ADC converts one channel per tick: a trusted, fresh inverter status that shows
    # its DC current gone (it ceased on its own trip) is the newer word.
    inv = snap.inverter
    trusted = (inv is not None and not latched & UNTRUSTED_INVERTER
               and snap.inverter_age_s <= config.protection.inverter_status_timeout_s)
    readings = [abs(a) for a in (current, inv.dc_current_a if trusted and inv else None)
                if a is not None]
    if readings and min(readings) < limit:
        return None
    emergency = any(CATALOGUE[c].severity is Severity.EMERGENCY for c in latched)
    shown = "unknown" if current is None else f"{current:.1f} A"
    return HotOpen(snap.t, emergency, current, state,
                   f"K_DC commanded open at {shown} (limit {limit} A) in {state}, "
                   f"{'an emergency' if emergency else 'no emergency'}"
                   + (f": {why}" if why else ""))
