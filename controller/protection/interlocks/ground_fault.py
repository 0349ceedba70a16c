"""Residual current monitor (RCM, RDC-DD class) input: its alarm latches GROUND_FAULT.

The monitor's own relay already acts on the coil rail in hardware where the installation wires it
so; this monitor latches the fault with a code (technician reset: a leak to earth must be found).
"""

from __future__ import annotations

from controller.config.safety_settings import GroundFaultSettings
from controller.protection.debounce import Debounce
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode


class GroundFaultMonitor:
    def __init__(self, settings: GroundFaultSettings) -> None:
        self._filter = Debounce(settings.debounce_s, 0.0)

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        alarm = not snap.inputs.get("rcm_ok", False)  # a cut sense wire reads as an alarm
        if not self._filter.update(snap.t, alarm):
            return QUIET
        return finding(Trip(FaultCode.GROUND_FAULT, "the residual current monitor reports a "
                            "residual (earth leakage) current"))
