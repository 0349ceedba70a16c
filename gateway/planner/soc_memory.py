"""The EV's SoC as the planner knows it: a CHAdeMO car reports it only in a session.

A plugged, idle CHAdeMO car is silent, so the controller reports no SoC. The planner keeps the
SoC the car reported on this plug-in (forgotten at unplug); while none is known it plans from
the backup reserve (a plan that can only charge) and claims a gentle charge, ``SOC_PROBE_W``,
which starts a session: the car reports its SoC in the parameter exchange, before anything
closes. Used by the gateway's service and by the scenario driver alike.
"""

from __future__ import annotations

SOC_PROBE_W = 1000.0  # the charge that starts a session to read a silent car's SoC


class SocMemory:
    """The SoC reported on this plug-in, or None before the car has reported one."""

    def __init__(self) -> None:
        self.soc_pct: float | None = None

    def observe(self, plugged: bool, soc_pct: float | None) -> None:
        """Keep a reported SoC; forget it when the car is unplugged."""
        if not plugged:
            self.soc_pct = None
        elif soc_pct is not None:
            self.soc_pct = soc_pct

    def needs_probe(self, plugged: bool) -> bool:
        """A plugged car whose SoC is unknown: start a session to read it."""
        return plugged and self.soc_pct is None

    def for_plan(self, plugged: bool, reserve_pct: float) -> float:
        """The SoC to plan from: the remembered one, else the reserve (0 when unplugged)."""
        if not plugged:
            return 0.0
        return self.soc_pct if self.soc_pct is not None else reserve_pct
