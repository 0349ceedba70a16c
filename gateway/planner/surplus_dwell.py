"""Charging from a PV surplus without cycling the charger on a cloudy day.

The service re-claims every ``POLL_S`` (5 s) with the surplus the controller measures
(``evaluate.claim_for``). A surplus that comes and goes with the clouds would start and stop
the charger every few seconds: each start precharges the DC link and closes the contactors,
each stop ramps down and opens them, and the car's session starts over. Contactors are rated
for a finite number of operations, a precharge resistor for so many precharges a minute, and an
owner hears every one.

So, as evcc's PV mode does (an enable delay of 1 minute and a disable delay of 3 minutes by
default; docs.evcc.io, "loadpoints" reference):

- a charge that only the measured surplus asks for (with no surplus the claim would not be a
  charge) starts once it has been asked for :data:`START_DELAY_S` without a break; until
  then the service claims what it would with no surplus;
- a charge of ours that the service would end (idle) goes on at zero power until idle has
  been asked for :data:`STOP_DELAY_S` without a break: closed contactors at 0 W import
  nothing, and the next ray of sun goes straight into the car.

Any other change (V2H, a charge the plan buys from the grid, the owner's choice) is claimed at
once: only the surplus's own coming and going waits.
"""

from __future__ import annotations

from typing import Final

Claim = tuple[str, float]  # (mode, power limit kW) as claim_for returns it

START_DELAY_S: Final = 60.0  # a surplus must last this long to start a charge
STOP_DELAY_S: Final = 180.0  # a surplus-driven charge idles at 0 W this long before it stops
ZERO_POWER: Final[Claim] = ("charge", 0.0)
# "without a break": wake-ups further apart than this (the service wakes every 5 s) start the
# count again (a reconnect, a dropped plan, the owner's manual hold in between)
MAX_GAP_S: Final = 30.0


class SurplusDwell:
    """Holds back starts and stops that only the measured surplus asks for (module docstring).
    One per service; ``settle`` is called at every wake-up with the service's clock."""

    def __init__(self, start_delay_s: float = START_DELAY_S,
                 stop_delay_s: float = STOP_DELAY_S) -> None:
        self.start_delay_s = start_delay_s
        self.stop_delay_s = stop_delay_s
        self._start_since: float | None = None  # a surplus-only charge wished since
        self._stop_since: float | None = None  # idle wished (while charging for us) since
        self._last_s: float | None = None  # the previous settle

    def settle(self, now_s: float, charging: bool, wish: Claim, without_surplus: Claim) -> Claim:
        """The claim to make now. ``charging``: the controller is charging on our claim;
        ``wish``: ``claim_for`` with the measured surplus; ``without_surplus``: with none."""
        if self._last_s is None or not 0.0 <= now_s - self._last_s <= MAX_GAP_S:
            self._start_since = self._stop_since = None  # not seen without a break
        self._last_s = now_s
        if not charging and wish[0] == "charge" and without_surplus[0] != "charge":
            self._stop_since = None
            if self._start_since is None:
                self._start_since = now_s
            return wish if now_s - self._start_since >= self.start_delay_s else without_surplus
        self._start_since = None
        if charging and wish[0] == "idle":
            if self._stop_since is None:
                self._stop_since = now_s
            return wish if now_s - self._stop_since >= self.stop_delay_s else ZERO_POWER
        self._stop_since = None
        return wish
