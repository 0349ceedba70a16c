"""CAN controller state from SocketCAN error frames: error-active, warning, passive, bus-off.

python-can's ``BusABC.state`` is not implemented for socketcan, so the state is read from the
error frames the kernel delivers (``linux/can/error.h``): the class bits are in the frame ID and
the controller status in data byte 1. Only the edges matter to the controller: entering
error-passive or bus-off, and recovering (restarted / back to error-active).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from hal.interfaces import CanFrame

CAN_ERR_CRTL: Final = 0x004  # controller problems, details in data[1]
CAN_ERR_BUSOFF: Final = 0x040
CAN_ERR_RESTARTED: Final = 0x100
CAN_ERR_CRTL_RX_WARNING: Final = 0x04
CAN_ERR_CRTL_TX_WARNING: Final = 0x08
CAN_ERR_CRTL_RX_PASSIVE: Final = 0x10
CAN_ERR_CRTL_TX_PASSIVE: Final = 0x20
CAN_ERR_CRTL_ACTIVE: Final = 0x40


class BusState(Enum):
    ACTIVE = "error-active"
    WARNING = "error-warning"
    PASSIVE = "error-passive"
    BUS_OFF = "bus-off"


def classify(frame: CanFrame) -> BusState | None:
    """The state an error frame reports, or None if it reports no controller state."""
    flags = frame.arbitration_id
    if flags & CAN_ERR_BUSOFF:
        return BusState.BUS_OFF
    if flags & CAN_ERR_RESTARTED:
        return BusState.ACTIVE
    if flags & CAN_ERR_CRTL and len(frame.data) > 1:
        status = frame.data[1]
        if status & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE):
            return BusState.PASSIVE
        if status & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING):
            return BusState.WARNING
        if status & CAN_ERR_CRTL_ACTIVE:
            return BusState.ACTIVE
    return None


class BusStateTracker:
    """Follows the state; ``transitions`` counts each change so callers can log edges once."""

    def __init__(self) -> None:
        self.state = BusState.ACTIVE
        self.transitions = 0
        self.bus_offs = 0

    def update(self, frame: CanFrame) -> bool:
        """Feed one error frame; returns True when the state changed."""
        new = classify(frame)
        if new is None or new is self.state:
            return False
        self.state = new
        self.transitions += 1
        if new is BusState.BUS_OFF:
            self.bus_offs += 1
        return True
