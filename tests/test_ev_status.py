"""The status line (and the console, which prints the same line) shows the EV session's phase
while a start runs through the CHAdeMO sequence (issue 19, "done when")."""

from __future__ import annotations

from collections.abc import Callable

from controller.modes.states import State
from controller.values.status import STATE_WIDTH
from harness import Charger


def test_the_status_line_shows_the_ev_phase_while_starting(
        make_charger: Callable[..., Charger]) -> None:
    c = make_charger()
    c.request("charge", 3000.0)
    full: set[str] = set()
    compact: set[str] = set()
    while c.state is not State.ENERGISED_CHARGE and c.now < 15.0:
        c.run(0.02)
        status = c.sup.status()
        phase = c.sup.ev_hooks.session.phase
        if phase in ("exchange", "permission", "locking", "ready", "closing"):
            assert f"EV phase {phase}" in status.line(), status.line()
            full.add(phase)
            if len(f"{status.state} ev:{phase}") <= STATE_WIDTH:  # in the state column
                short = status.line(80)
                assert f"ev:{phase}" in short, short
                compact.add(phase)
    assert c.state is State.ENERGISED_CHARGE
    assert {"exchange", "permission", "locking", "closing"} <= full, full
    assert compact, compact
    assert "EV phase transfer" in c.sup.status().line()
