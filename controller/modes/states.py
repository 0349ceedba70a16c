"""Every state of the mode machine, as an Enum. Nested states are joined with ``_``."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    SELFTEST = "selftest"
    IDLE = "idle"
    EV_CONNECTED = "ev_connected"
    STARTING = "starting"
    STARTING_WELD_CHECK = "starting_weldcheck"
    STARTING_INSULATION_TEST = "starting_insulation_test"
    STARTING_EV_CLOSE = "starting_ev_close"  # EV link: d2 on, the vehicle closes its contactors
    STARTING_PRECHARGE = "starting_precharge"
    STARTING_CLOSE_DC = "starting_close_dc"
    STARTING_CLOSE_AC = "starting_close_ac"
    ENERGISED = "energised"
    ENERGISED_CHARGE = "energised_charge"
    ENERGISED_V2H = "energised_v2h"
    ENERGISED_V2G = "energised_v2g"
    ENERGISED_V2L = "energised_v2l"
    BACKUP = "backup"
    BACKUP_ISOLATE = "backup_isolate"
    BACKUP_ISLAND = "backup_island"
    BACKUP_WAIT_FOR_GRID = "backup_wait_for_grid"
    BACKUP_RESYNC = "backup_resync"
    BACKUP_RECONNECT = "backup_reconnect"
    STOPPING = "stopping"
    STOPPING_RAMP = "stopping_ramp"
    STOPPING_OPEN = "stopping_open"
    STOPPING_WELD_CHECK = "stopping_weldcheck"
    STOPPING_ISOLATE = "stopping_isolate"  # an untrusted inverter: AC side first, then DC
    SERVICE_TEST = "service_test"
    FAULT = "fault"
    ESTOP = "estop"


# The tree the HierarchicalMachine is built from: parent -> ordered children (first = initial).
# A child's own name has no "_" when it is an initial state (``transitions`` splits on it).
CHILDREN: dict[State, tuple[State, ...]] = {
    State.STARTING: (State.STARTING_WELD_CHECK, State.STARTING_INSULATION_TEST,
                     State.STARTING_EV_CLOSE, State.STARTING_PRECHARGE,
                     State.STARTING_CLOSE_DC, State.STARTING_CLOSE_AC),
    State.ENERGISED: (State.ENERGISED_CHARGE, State.ENERGISED_V2H, State.ENERGISED_V2G,
                      State.ENERGISED_V2L),
    State.BACKUP: (State.BACKUP_ISOLATE, State.BACKUP_ISLAND, State.BACKUP_WAIT_FOR_GRID,
                   State.BACKUP_RESYNC, State.BACKUP_RECONNECT),
    State.STOPPING: (State.STOPPING_RAMP, State.STOPPING_OPEN, State.STOPPING_WELD_CHECK,
                     State.STOPPING_ISOLATE),
}
TOP_LEVEL: tuple[State, ...] = (State.SELFTEST, State.IDLE, State.EV_CONNECTED, State.STARTING,
                                State.ENERGISED, State.BACKUP, State.STOPPING,
                                State.SERVICE_TEST, State.FAULT, State.ESTOP)
# Nothing is energised in these: every contactor open (K_GRID closed), the inverter off.
DE_ENERGISED: frozenset[State] = frozenset({State.SELFTEST, State.IDLE, State.EV_CONNECTED,
                                            State.FAULT, State.ESTOP})
LATCHED: frozenset[State] = frozenset({State.FAULT, State.ESTOP})


def _within(parent: State) -> frozenset[State]:
    """``parent`` and its sub-states (their names begin with the parent's)."""
    return frozenset(s for s in State if s.value.startswith(parent.value))


STOPPING_STATES = _within(State.STOPPING)
BACKUP_STATES = _within(State.BACKUP)
# Grid-parallel modes share the contactors (K_AC) and switch among themselves through zero
# power; V2L uses K_V2L with K_AC open, so changing to or from it goes through a stop.
GRID_PARALLEL_MODES = ("charge", "v2h", "v2g")
ENERGY_MODES = (*GRID_PARALLEL_MODES, "v2l")  # the requests that start the DC side


def leaf_name(state: State) -> str:
    """The name ``transitions`` uses for a state (children are ``parent_child``)."""
    return state.value


def short_name(state: State) -> str:
    """The child's own name inside its parent (``precharge`` for ``starting_precharge``)."""
    for parent, children in CHILDREN.items():
        if state in children:
            return state.value.removeprefix(parent.value + "_")
    return state.value
