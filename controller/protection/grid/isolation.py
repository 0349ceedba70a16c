"""Backup isolation proven by a second, independent signal: the utility side must stay dead.

Before the inverter forms the home grid in an outage, K_GRID must be open. Its aux contact says
so, but a welded K_GRID whose aux wire also broke reads "open" while the contacts are closed: the
inverter would then form into the dead utility line (a line-worker hazard; ARCHITECTURE.md
invariants 1 and 4). The PCC meter sits on the utility side of K_GRID (``hw/README.md``), so it is
the second signal: in an outage it reads no voltage, and once the inverter forms, a utility side
that comes alive at once is the inverter's own voltage coming through K_GRID.

So, observed from the snapshot only: when the inverter starts forming with K_GRID commanded open
and the utility side dead just before, the utility side must stay dead for ``PROBE_S``; voltage
there within that window trips ``GRID_ISOLATION_FAILED`` (an emergency: the inverter off and
every coil dropped in the same tick). After the window, utility-side voltage is the utility's
return, which the backup states synchronise to. A utility that comes back inside the window is
indistinguishable and trips too: that is the safe side (a technician looks at K_GRID).
"""

from __future__ import annotations

from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import Contactor, FaultCode
from hal.protocols.inverter_messages import InverterState

_GRID = Contactor.GRID.value  # bound once (controller/vocabulary.py)
PROBE_S = 0.3  # the utility side must stay dead this long after forming starts
LIVE_FRACTION = 0.3  # of the nominal voltage: more than the meter's noise, less than any grid


class IsolationMonitor:
    """Watches the first ``PROBE_S`` of every forming period with K_GRID commanded open."""

    def __init__(self, nominal_voltage_v: float) -> None:
        self._live_v = LIVE_FRACTION * nominal_voltage_v
        self._utility_dead = False  # the utility side was dead while the inverter was off
        self._forming_since: float | None = None

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        grid = snap.contactors.get(_GRID)
        inverter = snap.inverter
        live = self._utility_side_live(snap)
        if grid is None or grid.commanded_closed or inverter is None:
            self._utility_dead, self._forming_since = False, None
            return QUIET
        if inverter.state in (InverterState.OFF, InverterState.FAULT):
            # K_GRID commanded open, the inverter not yet forming: the utility side's state.
            self._utility_dead, self._forming_since = live is False, None
            return QUIET
        # The inverter is starting or forming (its status may lag its output by a frame).
        if self._forming_since is None:
            self._forming_since = snap.t
        since = snap.t - self._forming_since
        if self._utility_dead and live and snap.meter is not None and since <= PROBE_S:
            return finding(Trip(
                FaultCode.GRID_ISOLATION_FAILED,
                f"the utility side came alive ({snap.meter.voltage_rms_v:.0f} V) "
                f"{since:.3f} s after the inverter began forming with K_GRID "
                "commanded open: K_GRID is not isolating (welded, with its aux contact "
                "reading open)", snap.meter.voltage_rms_v, self._live_v))
        return QUIET

    def _utility_side_live(self, snap: Snapshot) -> bool | None:
        """Whether the PCC meter sees the utility side live (None: no reading this tick)."""
        meter = snap.meter
        if meter is None:
            return None
        return not meter.voltage_lost and meter.voltage_rms_v > self._live_v
