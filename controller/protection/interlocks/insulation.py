"""DC insulation: the insulation monitor (IMD) input latches INSULATION_FAULT at any time.

The IMD's alarm contact opens on low insulation resistance (a cut sense wire reads as an alarm,
too). The pre-close insulation test (the IMD healthy for ``sequence.insulation_test_s`` before
precharge) is the mode machine's (``controller/modes/checks.py``, ``insulation_ok``); this
monitor covers every other moment, energised or not.
"""

from __future__ import annotations

from controller.config.safety_settings import InsulationSettings
from controller.protection.debounce import Debounce
from controller.protection.monitor import QUIET, Finding, ProtectionInput, finding
from controller.protection.trip import Trip
from controller.vocabulary import FaultCode


class InsulationMonitor:
    def __init__(self, settings: InsulationSettings) -> None:
        self._filter = Debounce(settings.debounce_s, 0.0)

    def update(self, seen: ProtectionInput) -> Finding:
        snap = seen.snap
        if not self._filter.update(snap.t, not snap.inputs.get("imd_ok", False)):
            return QUIET
        return finding(Trip(FaultCode.INSULATION_FAULT, "the insulation monitor reports low DC "
                            "insulation resistance"))
