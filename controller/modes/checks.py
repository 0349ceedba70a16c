"""The DC-side checks of the start and stop sequences: welding and insulation.

Pure functions of one snapshot and the ``[sequence]`` settings; the mode machine's guards call
them and keep the deadlines.

Welding. K_DC and the precharge relay sit between the EV inlet and the inverter's DC link. With
both open, the link is fed by nothing and bleeds away, while the inlet shows the EV battery: the
two voltages part. If they stay together, current still has a path: welded contacts (or a
welded precharge relay, which drags the link up to the battery through its resistor). This is
checked before closing (a weld found here means the contactor never opened since the last
session) and after opening (the contact that just broke load is the one that welds). The aux
contacts are a second, independent witness: any that reads closed means "not proven open".

When the inlet is dead (below ``dc_dead_below_v``: the EV's own contactors are open), voltage
cannot prove anything and the aux contacts decide alone; the event log says so.

Insulation. Before the DC side is energised, the insulation monitor (IMD, input ``imd_ok``)
must report a healthy insulation for ``insulation_test_s`` in a row. An IMD alarm at any time is
a protection trip (``INSULATION_FAULT``, controller/protection); here only the waiting is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from controller.config.model import SequenceSettings
from controller.values.snapshot import Snapshot
from controller.vocabulary import DC_SIDE

IMD_INPUT = "imd_ok"


class Isolation(Enum):
    PROVEN_OPEN = "proven open"  # the link has parted from the live inlet, aux contacts open
    AUX_ONLY = "open by the aux contacts (inlet dead: voltage cannot tell)"
    NOT_PROVEN = "not proven open"


@dataclass(frozen=True, slots=True)
class IsolationCheck:
    verdict: Isolation
    detail: str


def dc_isolation(snap: Snapshot, seq: SequenceSettings, max_age_s: float) -> IsolationCheck:
    """Whether K_DC and the precharge relay are shown open by the aux contacts and voltages."""
    closed_aux = [n for n in DC_SIDE if snap.contactors[n].feedback_closed is True]
    link = snap.analog_value("dc_link_v", max_age_s)
    inlet = snap.analog_value("ev_inlet_v", max_age_s)
    if link is None or inlet is None:
        return IsolationCheck(Isolation.NOT_PROVEN, "DC link or inlet voltage not available")
    volts = f"DC link {link:.0f} V, EV inlet {inlet:.0f} V"
    if closed_aux:
        return IsolationCheck(Isolation.NOT_PROVEN,
                              f"aux contact of {', '.join(closed_aux)} reads closed ({volts})")
    if inlet < seq.dc_dead_below_v:
        return IsolationCheck(Isolation.AUX_ONLY, volts)
    if abs(link - inlet) > seq.weld_check_margin_v:
        return IsolationCheck(Isolation.PROVEN_OPEN, volts)
    return IsolationCheck(
        Isolation.NOT_PROVEN,
        f"{volts}: within {seq.weld_check_margin_v:g} V of each other with K_DC and the "
        "precharge relay commanded open")


def insulation_ok(snap: Snapshot) -> bool:
    """The insulation monitor reports healthy insulation (an absent input is not healthy)."""
    return snap.inputs.get(IMD_INPUT, False)
