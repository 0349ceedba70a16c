"""The phases of a CHAdeMO session on the charger side, and the named endings and faults."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Phase(StrEnum):
    UNPLUGGED = "unplugged"
    PLUGGED = "plugged"  # connector in, no session wanted yet
    EXCHANGE = "exchange"  # d1 on: parameter exchange and the compatibility check
    PERMISSION = "permission"  # waiting for switch k and 102.5.0
    LOCKING = "locking"  # lock driven, waiting for its feedback
    READY = "ready"  # locked and permitted: the charger's insulation test runs now
    CLOSING = "closing"  # d2 on: the vehicle closes its contactors
    TRANSFER = "transfer"  # current follows the vehicle's request or its discharge limits
    STOPPING = "stopping"  # current to below 5 A, then the vehicle opens its contactors
    UNLOCKING = "unlocking"  # the charger's contactors open, output below 10 V, unlock
    ENDED = "ended"  # d1 off, no frames: waits for a new request or an unplug


# Phases with the connector to be kept locked and the vehicle possibly live behind it.
LIVE_PHASES: Final = frozenset({Phase.CLOSING, Phase.TRANSFER, Phase.STOPPING})
SESSION_PHASES: Final = frozenset(Phase) - {Phase.UNPLUGGED, Phase.PLUGGED, Phase.ENDED}
STARTABLE: Final = frozenset({Phase.READY, Phase.CLOSING, Phase.TRANSFER})

# 0x102 byte 4, bit 0 first (hal/protocols/chademo_codec.py FAULT_BIT_SIGNALS).
FAULT_BIT_CODES: Final = ("EV_BATTERY_OVERVOLTAGE", "EV_BATTERY_UNDERVOLTAGE",
                          "EV_CURRENT_DEVIATION_REPORTED", "EV_BATTERY_TEMPERATURE",
                          "EV_VOLTAGE_DEVIATION_REPORTED")
EV_SYSTEM_FAULT: Final = "EV_SYSTEM_FAULT"  # 102.5.2
EV_NOT_IN_PARK: Final = "EV_NOT_IN_PARK"  # 102.5.1
EV_COMM_LOST: Final = "EV_COMM_LOST"
EV_PERMISSION_TIMEOUT: Final = "EV_PERMISSION_TIMEOUT"
EV_LOCK_TIMEOUT: Final = "EV_LOCK_TIMEOUT"
EV_CONTACTOR_TIMEOUT: Final = "EV_CONTACTOR_TIMEOUT"
EV_REQUEST_TIMEOUT: Final = "EV_REQUEST_TIMEOUT"
EV_CONTACTOR_OPEN_TIMEOUT: Final = "EV_CONTACTOR_OPEN_TIMEOUT"
EV_OUTPUT_LIVE: Final = "EV_OUTPUT_LIVE"
EV_CURRENT_DEVIATION: Final = "EV_CURRENT_DEVIATION"
EV_VOLTAGE_WINDOW: Final = "EV_VOLTAGE_WINDOW"
EV_CONNECTOR_UNLOCKED: Final = "EV_CONNECTOR_UNLOCKED"  # emergency
EV_PROXIMITY_LOST: Final = "EV_PROXIMITY_LOST"  # emergency

# Endings that are not faults (the event log names them).
END_EV_STOP = "the EV asked for a normal stop (102.5.4)"
END_EV_DECLINED = ("the EV asked to stop before charging (102.5.4): it wants no charge now, "
                   "e.g. at its own charge limit")
END_PERMISSION = "the EV withdrew its charge permission (switch k or 102.5.0)"
END_TARGET = "the EV's request fell to zero (target reached)"
END_CHARGER = "the charger stopped (request, schedule, trip or interlock)"
END_INCOMPATIBLE = "battery incompatible: the EV's maximum voltage is above the charger's"
END_DISCHARGE_LIMIT = "the EV's discharge limits ended the discharge"
END_SOC_READ = "the SoC was read on plug-in (a parameter exchange only)"
END_SOC_UNREAD = "no SoC on plug-in: the EV gave no valid parameters (no fault: nothing was wanted)"

# Every way the session moves (source, destination, why): the sequence diagram in docs/ev-link.md
# is generated from this table (``v2xctl ev-diagram`` is not a verb: ``python -m
# controller.ev.chademo.diagram``), and tests/test_ev_session.py checks that every phase change
# seen in its runs is listed here.
P = Phase
PHASE_TRANSITIONS: Final = (
    (P.UNPLUGGED, P.PLUGGED, "proximity"),
    (P.PLUGGED, P.EXCHANGE, "energy wanted, nothing energised: d1 on; or, once per plug-in "
                            "(ev.soc_on_plug), to read the SoC"),
    (P.EXCHANGE, P.PERMISSION, "the EV's limits settled (0.3 s), compatible; discharge agreed?"),
    (P.EXCHANGE, P.UNLOCKING, "battery incompatible (109.5.3), an EV fault, or the request gone; "
                              "the SoC read on plug-in done (no request)"),
    (P.PERMISSION, P.LOCKING, "switch k and 102.5.0: lock driven"),
    (P.PERMISSION, P.UNLOCKING, "EV_PERMISSION_TIMEOUT (8 s from d1), an EV fault, request gone, "
                                "the EV declines (102.5.4 before charging: no fault)"),
    (P.LOCKING, P.READY, "lock feedback"),
    (P.LOCKING, P.UNLOCKING, "EV_LOCK_TIMEOUT (2 s), an EV fault, request gone"),
    (P.READY, P.CLOSING, "the machine passed its insulation test (starting_ev_close): d2 on"),
    (P.READY, P.UNLOCKING, "permission withdrawn, a stop, an EV fault, the lock lost"),
    (P.CLOSING, P.TRANSFER, "102.5.3 = 0: the EV's contactors closed"),
    (P.CLOSING, P.STOPPING, "EV_CONTACTOR_TIMEOUT (4 s from d2), a stop, a fault"),
    (P.TRANSFER, P.STOPPING, "either side stops, an EV fault, comm lost, deviation, window, "
                             "discharge floor, EV_REQUEST_TIMEOUT (no current request 4 s "
                             "after its contactors closed)"),
    (P.STOPPING, P.UNLOCKING, "current below 5 A and 102.5.3 = 1 (or EV_CONTACTOR_OPEN_TIMEOUT, "
                              "10 s): d2 off"),
    (P.UNLOCKING, P.PLUGGED, "output below 10 V, nothing energised: unlock, d1 off (the "
                             "charger's stop: the request stays)"),
    (P.UNLOCKING, P.ENDED, "the same after the EV's stop or a fault: the request is released"),
    (P.ENDED, P.PLUGGED, "the request withdrawn"),
)
# From any phase: proximity lost -> unplugged (EV_PROXIMITY_LOST if the EV could be live).
