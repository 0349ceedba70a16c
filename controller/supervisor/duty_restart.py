"""The precharge resistor's duty across a restart: at start-up, the precharges the store holds
from the last window (``controller/store/precharge_log.py``) are counted again
(``controller/modes/precharge_duty.py``), converted from wall time to the loop's clock.

Never stops a start-up: a table that cannot be read (corrupt, another schema) or clocks that
are not finite leave the duty empty, turn its recording off for the run and are told in one
warning event; the precharge resistor's thermal cut-out backs it (hw/README.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.modes.precharge_duty import PrechargeDuty
from controller.store.precharge_log import PrechargeLog
from hal.interfaces.clock import Clock

WITHOUT = ("starting without the precharges of earlier runs (and not keeping this run's): "
           "the precharge resistor's thermal cut-out backs the duty")


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the start-up found: the event to record (kind and text), or none."""

    kind: str
    text: str


def seed_precharge_duty(duty: PrechargeDuty, log: PrechargeLog, clock: Clock) -> Seeded | None:
    """Seed ``duty`` from ``log`` on ``clock`` (its loop time and its wall time, read once);
    the event to record, or None when there was nothing to count or ignore. Never raises."""
    now, wall_now = clock.now(), clock.wall_time()
    if not (math.isfinite(now) and math.isfinite(wall_now)):
        return Seeded("warning", f"precharge duty: the clocks read t={now}, wall {wall_now}; "
                      + WITHOUT)
    try:
        walls = log.recent(wall_now - duty.window_s)
    except Exception as err:  # any failure of the store: the start-up goes on
        return Seeded("warning", "precharge duty: the store's precharges cannot be read "
                      f"({type(err).__name__}: {err}); " + WITHOUT)
    counted, ignored = duty.seed(walls, now, wall_now)
    if not counted and not ignored:
        return None
    text = (f"precharge duty: {counted} precharge(s) of earlier runs within the last "
            f"{duty.window_s:g} s counted")
    if ignored:
        text += f"; {ignored} stored wall time(s) ignored (not a finite number)"
    return Seeded("duty", text)
