"""Input filtering for interlock inputs, and condition timers, in plain testable code.

Asymmetric on purpose: an input turns *unsafe* after it has read unsafe for ``assert_s``
(a bounce filter, one or two ticks) and turns *safe* again only after it has read safe for
``release_s`` (so a flickering switch cannot make a reset go through).
"""

from __future__ import annotations


class Debounce:
    def __init__(self, assert_s: float, release_s: float = 0.0) -> None:
        self._assert_s = assert_s
        self._release_s = release_s
        self._since: float | None = None  # when the raw input last changed
        self._raw: bool | None = None
        self.unsafe = False

    def update(self, t: float, raw_unsafe: bool) -> bool:
        """Feed the raw reading at time ``t``; returns the filtered state (True: unsafe)."""
        if raw_unsafe != self._raw:
            self._raw = raw_unsafe
            self._since = t
        held = t - (self._since if self._since is not None else t)
        if raw_unsafe and not self.unsafe and held >= self._assert_s - 1e-9:
            self.unsafe = True
        elif not raw_unsafe and self.unsafe and held >= self._release_s - 1e-9:
            self.unsafe = False
        return self.unsafe


class HeldFor:
    """How long a condition has held without a break (0 when it does not hold now)."""

    def __init__(self) -> None:
        self.since: float | None = None

    def held(self, t: float, condition: bool) -> float:
        if not condition:
            self.since = None
            return 0.0
        if self.since is None:
            self.since = t
        return t - self.since
