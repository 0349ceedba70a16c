"""A contactor as a mechanism: coil delay, auxiliary contact, welding, coil supply."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ContactorParams:
    close_delay_s: float = 0.030
    open_delay_s: float = 0.015


class ContactorModel:
    """Main contacts follow the coil after a delay, unless welded or the coil supply is cut.

    ``normally_closed`` contacts are closed while the coil is dropped (the grid transfer
    contactor). A welded contactor stays closed whatever the coil does.
    """

    def __init__(self, name: str, normally_closed: bool, params: ContactorParams) -> None:
        self.name = name
        self.normally_closed = normally_closed
        self.params = params
        self.closed = normally_closed
        self.welded = False
        self._pending_since: float | None = None
        self.operations = 0
        self.hot_opens = 0

    def step(self, now: float, coil_on: bool, supply_ok: bool) -> bool:
        """Advance; returns True when the main contacts changed state this step."""
        want = (coil_on and supply_ok) != self.normally_closed  # energised: off its rest
        if self.welded:
            want = True
        if want == self.closed:
            self._pending_since = None
            return False
        if self._pending_since is None:
            self._pending_since = now
        delay = self.params.close_delay_s if want else self.params.open_delay_s
        if now - self._pending_since >= delay - 1e-9:
            self.closed = want
            self._pending_since = None
            self.operations += 1
            return True
        return False
