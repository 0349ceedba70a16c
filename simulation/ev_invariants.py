"""Invariant 8 (issue 19), the EV connector, checked against plant truth like invariants 1-7.

*Current flows only through a locked connector, and the connector unlocks only with its output
below 10 V; the vehicle's contactors open under load only in an emergency.* What is judged is the
controller's drive of the lock actuator (a lock that fails mechanically is a plant fault the
controller must react to: EV_CONNECTOR_UNLOCKED, an emergency). Violations:

- battery current above ``current_threshold_a`` (1 A) through the inlet (the vehicle's
  contactors closed, plugged in) while the lock is not driven, sampled at each check
  (edge-triggered);
- the lock drive released while the inlet is above ``unlock_max_v`` (10 V), from the plant's
  ``ev_lock_drive`` records (stamped at plant-step resolution, with the inlet voltage then);
- the vehicle opening its contactors above 2 A (the plant's ``ev_hot_open`` record) with no
  emergency (no latched fault, no E-stop) at the previous check.

A connector pulled out (proximity lost) unlocks nothing: that is a plug-out, judged by the
controller's EV_PROXIMITY_LOST (the plant records no ``ev_lock`` change for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hal.sim.world import SimWorld

INVARIANT: Final = 8
CURRENT_THRESHOLD_A: Final = 1.0
UNLOCK_MAX_V: Final = 10.0

Report = Callable[[float, int, str], None]


class EvConnectorCheck:
    """Called by ``simulation/invariants.py`` at every check."""

    def __init__(self, world: SimWorld) -> None:
        self.world = world
        self._cursor = len(world.truth.events)
        self._unlocked_current = False

    def check(self, now: float, report: Report, emergency: bool) -> None:
        w = self.world
        events = w.truth.events
        for event in events[self._cursor:]:
            d = event.details
            if event.kind == "ev_lock_drive" and not d["locked"] and w.ev_plugged and (
                    float(d["inlet_v"]) > UNLOCK_MAX_V):
                report(event.t, INVARIANT, f"the connector unlocked with its output at "
                       f"{d['inlet_v']} V (> {UNLOCK_MAX_V:g} V)")
            elif event.kind == "ev_hot_open" and not emergency:
                report(event.t, INVARIANT, f"the EV opened its contactors under load "
                       f"({d['current_a']} A) outside an emergency")
        self._cursor = len(events)
        flowing = (w.ev_dc() and abs(w.battery.current_a) > CURRENT_THRESHOLD_A
                   and not w.ev_lock_driven)
        if flowing and not self._unlocked_current:
            report(now, INVARIANT, f"{w.battery.current_a:.1f} A through the inlet with the "
                   "connector unlocked")
        self._unlocked_current = flowing
