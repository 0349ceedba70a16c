"""The technician's contactor test: operate one contactor's coil for a moment, everything else off.

A test is asked for through :meth:`controller.supervisor.loop.Supervisor.request_contactor_test`
(the console's ``contactor test NAME``, service mode only) and runs in the mode machine's
``service_test`` state: every other output in its safe position, the inverter off, the named
coil energised for :data:`TEST_HOLD_S`, then dropped. The contactor supervision that runs all the
time judges it: an aux contact that does not follow within ``sequence.contactor_timeout_s``
trips ``CONTACTOR_FAIL_CLOSE`` / ``CONTACTOR_FAIL_OPEN`` like in any other state. The state
records the aux contact's response time for the event log.

What may be tested, and when (:func:`refusal`): only from ``idle`` or ``ev_connected`` with
every output safe and nothing requested but idle; the DC side (``dc``, ``precharge``) only with
no EV plugged in and a dead DC link (closing K_DC or K_PRE onto an EV would skip the insulation
test and the precharge). K_GRID is normally closed: testing it means opening it, so the home is
without the utility for the hold time; the answer says so.
"""

from __future__ import annotations

from controller.config.model import SequenceSettings
from controller.modes.states import State
from controller.values.snapshot import Snapshot
from controller.vocabulary import DC_SIDE

TEST_HOLD_S = 1.0
TESTABLE_FROM = (State.IDLE, State.EV_CONNECTED)


def refusal(name: str, state: State, plan_safe: bool, request_mode: str, snap: Snapshot | None,
            seq: SequenceSettings, max_age_s: float) -> str | None:
    """Why a test of contactor ``name`` may not run now (None: it may)."""
    if snap is None or name not in snap.contactors:
        known = ", ".join(snap.contactors) if snap is not None else "none read yet"
        return f"contactor {name!r}: unknown (known: {known})"
    if state not in TESTABLE_FROM or not plan_safe:
        return f"the charger is not de-energised and idle (state {state.value})"
    if request_mode != "idle":
        return f"{request_mode} is requested: enter service mode first (it holds the charger idle)"
    if name in DC_SIDE:
        if snap.inputs.get("ev_present", False) or snap.ev is not None:
            return (f"K_{name.upper()} may be tested only with the EV unplugged (closing it onto "
                    "an EV would skip the insulation test and the precharge)")
        link = snap.analog_value("dc_link_v", max_age_s)
        if link is None or link >= seq.dc_dead_below_v:
            shown = "unknown" if link is None else f"{link:.0f} V"
            return (f"K_{name.upper()} may be tested only with a dead DC link (below "
                    f"{seq.dc_dead_below_v:g} V; now {shown})")
    return None


def what_happens(name: str, normally_closed: bool) -> str:
    """The answer a technician reads when the test is accepted."""
    if normally_closed:
        return (f"K_{name.upper()} test: its coil is energised for {TEST_HOLD_S:g} s, so it OPENS "
                "(the home is without the utility meanwhile); the aux response time goes to the "
                "event log (`log`)")
    return (f"K_{name.upper()} test: closed for {TEST_HOLD_S:g} s with everything else open, then "
            "opened; the aux response time goes to the event log (`log`)")
