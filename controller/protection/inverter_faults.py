"""The inverter's own fault report: one controller fault per bit of its FaultWord.

The inverter has already ceased when it reports a fault; ``InverterFaultMonitor`` makes the
controller latch it with a code a technician can act on, and keeps the contactors from being
reclosed onto it. Unknown (reserved) bits are reported as such rather than ignored
(``INV_HARDWARE``). The island bit (``INV_ISLANDING``) is not latched: the grid window reads it
as its island (``controller/protection/grid/grid_window.py``), as it reads the grid bits to take
the charger out of service. Whether the status can be true at all is
``controller/protection/inverter_status.py``.
"""

from __future__ import annotations

from controller.faults import INVERTER_FAULT_BITS, INVERTER_ISLAND_CODE
from controller.protection.monitor import QUIET, Finding, ProtectionInput
from controller.protection.trip import Trip
from controller.values.snapshot import Snapshot
from controller.vocabulary import FaultCode

WORD_BITS = 16


def check_inverter_faults(snap: Snapshot) -> list[Trip]:
    """Every bit set in the FaultWord as a trip (the island bit included)."""
    status = snap.inverter
    if status is None or status.fault_word == 0:
        return []
    trips: list[Trip] = []
    unknown: list[int] = []
    for bit in range(WORD_BITS):
        if not status.fault_word & (1 << bit):
            continue
        if bit < len(INVERTER_FAULT_BITS):
            trips.append(Trip(INVERTER_FAULT_BITS[bit],
                              f"inverter reports fault bit {bit} "
                              f"(FaultWord 0x{status.fault_word:04X})"))
        else:
            unknown.append(bit)
    if unknown:
        trips.append(Trip(FaultCode.INV_HARDWARE, f"inverter reports reserved fault bit(s) "
                          f"{unknown} (FaultWord 0x{status.fault_word:04X}): treated as a "
                          "hardware fault"))
    return trips


class InverterFaultMonitor:
    """Every FaultWord bit but the island bit, as a trip."""

    def update(self, seen: ProtectionInput) -> Finding:
        if seen.snap.inverter is None or seen.snap.inverter.fault_word == 0:
            return QUIET
        trips = tuple(trip for trip in check_inverter_faults(seen.snap)
                      if trip.code != INVERTER_ISLAND_CODE)
        return Finding(trips) if trips else QUIET
