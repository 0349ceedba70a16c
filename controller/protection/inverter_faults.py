"""The inverter's own fault word, mapped to controller faults (one code per bit).

The inverter has already ceased when it reports a fault; this monitor makes the controller latch
it with a code a technician can act on, and keeps the contactors from being reclosed onto it.
Unknown (reserved) bits are reported as such rather than ignored.
"""

from __future__ import annotations

from controller.faults import INVERTER_FAULT_BITS
from controller.protection.trip import Trip
from controller.supervisor.snapshot import Snapshot

WORD_BITS = 16


def check_inverter_faults(snap: Snapshot) -> list[Trip]:
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
        trips.append(Trip("INV_HARDWARE", f"inverter reports reserved fault bit(s) {unknown} "
                          f"(FaultWord 0x{status.fault_word:04X}): treated as a hardware fault"))
    return trips
