"""Console roles, ordered by what they may do, and the arbitration source each one claims as."""

from __future__ import annotations

from enum import IntEnum

from controller.dispatch.arbitration import Source


class Role(IntEnum):
    """viewer: read-only; operator: modes, power, stop; technician: everything the console has."""

    VIEWER = 0
    OPERATOR = 1
    TECHNICIAN = 2

    @property
    def label(self) -> str:
        return self.name.lower()


# The console claims through the same arbitration as every requester. An operator at the
# charger asks as the owner does (``user``); a technician outranks all automation.
SOURCE_OF_ROLE: dict[Role, Source] = {Role.OPERATOR: Source.USER,
                                      Role.TECHNICIAN: Source.TECHNICIAN}
