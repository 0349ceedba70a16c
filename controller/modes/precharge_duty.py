"""The precharge resistor's duty: at most ``sequence.precharge_max_starts`` precharges in any
``sequence.precharge_window_s``.

Each precharge dumps the DC link's charge energy (1/2 C V^2, tens to hundreds of joules) into
the precharge resistor, which is sized for a few in a row, not for a requester that starts and
stops the charger every few seconds (a flapping home automation, a planner following clouds,
an OCPP central system retrying). Contactors and the car's session start over each time too.

The controller does what it is asked, but a start that would exceed the duty **waits**: the
requested mode stays requested, the charger stays de-energised (the machine and the EV session
see no request for energy meanwhile), the requester is told why once (the "waiting" event and
``status.blocked``), and the start goes ahead by itself when the oldest precharge in the
window has aged out. Nothing is refused or latched; a running mode is never stopped by it.
The machine's own cold start for backup (an outage with no request) is not a request and is
never held; its precharge counts.

Kept across a restart: each precharge's wall time is stored (``controller/store/precharge_log.py``)
and a new run seeds the duty from those of the last window (:meth:`PrechargeDuty.seed`,
``controller/supervisor/duty_restart.py``), so a daemon that crashes and is restarted gets no
fresh duty. A store that cannot be read starts with none; the hardware layer behind it is the
resistor's own rating and thermal cut-out (hw/README.md).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from controller.modes.requests import Request
from controller.modes.states import ENERGY_MODES, State

# Only a start is held: the states from which the machine would begin one.
HOLDING_STATES = (State.IDLE, State.EV_CONNECTED)


class PrechargeDuty:
    """The precharges of the last window (their times on the loop's clock)."""

    def __init__(self, max_starts: int, window_s: float) -> None:
        self.max_starts = max_starts
        self.window_s = window_s
        self._starts: deque[float] = deque()

    def record(self, t: float) -> None:
        """A precharge began at ``t`` (the machine entered ``starting_precharge``)."""
        self._starts.append(t)
        self._forget(t)

    def seed(self, wall_times: Iterable[float], now: float,
             wall_now: float) -> tuple[int, int]:
        """Precharges of an earlier run, by their wall times, converted to the loop's clock
        (``now - (wall_now - wall)``): those within the window count. A wall time in the
        future (the clock stepped back) counts as ``now``, so the resistor cools for at most
        one window; one that is not finite is ignored. Returns how many counted (before only
        the newest ``max_starts`` are kept: no older one decides anything) and how many were
        ignored."""
        walls = list(wall_times)
        if not (math.isfinite(now) and math.isfinite(wall_now)):
            return 0, len(walls)
        ages = [max(0.0, wall_now - wall) for wall in walls if math.isfinite(wall)]
        seeded = sorted(now - age for age in ages if age < self.window_s)
        self._starts = deque(sorted([*self._starts, *seeded[-self.max_starts:]]))
        return len(seeded), len(walls) - len(ages)

    def cooling(self, t: float) -> str | None:
        """Why a start must wait now (None: it may begin), in words for the requester. The
        text names the instant the start may begin, so it stays the same while it waits."""
        self._forget(t)
        if len(self._starts) < self.max_starts:
            return None
        ready = self._starts[0] + self.window_s
        return (f"the precharge resistor is cooling: {len(self._starts)} precharges within "
                f"{self.window_s:g} s (sequence.precharge_max_starts); the start may begin at "
                f"t={ready:.0f} s")

    def hold(self, request: Request, state: State, t: float) -> tuple[Request, str | None]:
        """The request the machine and the EV session see this tick, and why it is held (None:
        ``request`` itself): a request for energy waits as idle while a start would exceed
        the duty."""
        if request.mode not in ENERGY_MODES or state not in HOLDING_STATES:
            return request, None
        reason = self.cooling(t)
        if reason is None:
            return request, None
        # As no request at all ("default"), not an explicit stop: the owner asked for energy,
        # so a cold start for backup (backup.from_idle) is not withheld by it.
        return Request("idle", None, "default"), reason

    def _forget(self, t: float) -> None:
        while self._starts and self._starts[0] <= t - self.window_s:
            self._starts.popleft()
