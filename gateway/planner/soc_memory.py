"""The EV's SoC as the planner knows it: a CHAdeMO car reports it only in a session.

A plugged, idle CHAdeMO car is silent. The controller reads its SoC once per plug-in with a
parameter exchange only (``ev.soc_on_plug``: nothing locks or closes) and keeps it on its status.
The planner keeps the SoC the car reported on this plug-in (forgotten at unplug). For
``SOC_READ_WAIT_S`` after the plug-in it waits for the controller's read and claims nothing;
if no SoC has come by then (a controller that does not read it), it plans from the backup
reserve (a plan that can only charge) and claims a gentle charge, ``SOC_PROBE_W``, which starts
a session: the car reports its SoC in the parameter exchange, before anything closes. Used by
the gateway's service and by the scenario driver alike.
"""

from __future__ import annotations

SOC_PROBE_W = 1000.0  # the charge that starts a session to read a silent car's SoC
# The controller's SoC read takes about a second from the plug-in (its exchange; up to its
# ev.parameters_timeout_s, 8 s, for a car that does not answer): wait this long for it.
SOC_READ_WAIT_S = 15.0


class SocMemory:
    """The SoC reported on this plug-in, or None before the car has reported one."""

    def __init__(self) -> None:
        self.soc_pct: float | None = None
        self._plugged_at: float | None = None  # when the plug-in was first seen (seconds)

    def observe(self, plugged: bool, soc_pct: float | None, now_s: float) -> None:
        """Keep a reported SoC; forget it when the car is unplugged."""
        if not plugged:
            self.soc_pct = None
            self._plugged_at = None
            return
        if self._plugged_at is None:
            self._plugged_at = now_s
        if soc_pct is not None:
            self.soc_pct = soc_pct

    def waiting(self, plugged: bool, now_s: float) -> bool:
        """Plugged, SoC unknown, and the controller's read on plug-in may still come."""
        return (plugged and self.soc_pct is None and self._plugged_at is not None
                and now_s - self._plugged_at < SOC_READ_WAIT_S)

    def needs_probe(self, plugged: bool, now_s: float) -> bool:
        """A plugged car whose SoC is still unknown after the wait: start a session."""
        return plugged and self.soc_pct is None and not self.waiting(plugged, now_s)

    def for_plan(self, plugged: bool, reserve_pct: float) -> float:
        """The SoC to plan from: the remembered one, else the reserve (0 when unplugged)."""
        if not plugged:
            return 0.0
        return self.soc_pct if self.soc_pct is not None else reserve_pct
