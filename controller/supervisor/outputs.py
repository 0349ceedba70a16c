"""The output stage: the only part of a tick that writes hardware.

Writes, in order: the inverter settings (re)sent when due (``SettingsSync.update``), the safe
state if the trip path asked for it this tick (inverter off, every coil dropped), then the power
command, then each contactor whose command changes. Outside a tick's output stage (an error that
aborted the tick, an overrun found after it, the end of a shutdown) :meth:`OutputStage.force`
drops everything at once: the last-resort path, each step guarded.
"""

from __future__ import annotations

import contextlib

from controller.links.inverter_link import InverterLink
from controller.links.inverter_settings import SettingsSync
from controller.modes.plan import PlannedOutputs
from hal.interfaces.hardware import Hardware
from hal.protocols.inverter_messages import InverterCommand


def write_outputs(hw: Hardware, plan: PlannedOutputs, inverter: InverterLink,
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


class OutputStage:
    """Owns every hardware write of the loop (contactors, CAN frames, the watchdog kick)."""

    def __init__(self, hw: Hardware, inverter: InverterLink, settings: SettingsSync) -> None:
        self._hw = hw
        self._inverter = inverter
        self._settings = settings
        self._deferred = False  # a tick is under way and has not reached its output stage
        self._force = False  # the trip path asked for the safe state this tick

    def begin_tick(self) -> None:
        self._deferred = True

    def end_tick(self) -> None:
        """The tick is over (or aborted): a force from now on acts at once."""
        self._deferred = False
        if self._force:  # aborted before its output stage: the asked-for force still happens
            self._force = False
            force_safe(self._hw, self._inverter)

    def force(self) -> None:
        """Inverter off and every coil dropped: at this tick's output stage if it is still to
        come (the same tick), else at once."""
        if self._deferred:
            self._force = True
        else:
            force_safe(self._hw, self._inverter)

    def write(self, plan: PlannedOutputs, command: InverterCommand, now: float) -> bool:
        """This tick's writes; returns whether the power command went out."""
        self._deferred = False
        self._settings.update(now)  # settings writes (re)sent from the loop only, here
        if self._force:
            self._force = False
            force_safe(self._hw, self._inverter)
        return write_outputs(self._hw, plan, self._inverter, command)

    def kick_watchdog(self) -> bool:
        """Toggle the external watchdog's kick pin (a healthy tick only); False if it failed
        (a dead kick output lets the hardware watchdog act: safe)."""
        if self._hw.watchdog is None:
            return False
        try:
            self._hw.watchdog.toggle()
        except Exception:
            return False
        return True
