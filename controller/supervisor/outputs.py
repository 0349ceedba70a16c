"""The output stage: write the plan to the contactors and the command to the inverter."""

from __future__ import annotations

import contextlib

from controller.links.inverter_link import InverterLink
from controller.modes.plan import OutputPlan
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_messages import InverterCommand


def write_outputs(hw: Hardware, plan: OutputPlan, inverter: InverterLink,
                  command: InverterCommand) -> bool:
    """Inverter first when opening (it ceases before contacts move), contactors after.

    Returns whether the command went out (a failed send is a link event, not an exception).
    """
    sent = inverter.send(command)
    for name, contactor in hw.contactors.items():
        wanted = plan.contactors[name]
        if contactor.commanded_closed != wanted:
            contactor.set_closed(wanted)
    return sent


def force_safe(hw: Hardware, inverter: InverterLink) -> None:
    """The last-resort path: inverter off and every coil dropped, each step guarded."""
    with contextlib.suppress(Exception):
        inverter.send(InverterCommand.off())
    hw.de_energise_all()
