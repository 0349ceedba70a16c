"""Login lock-out with back-off, per port and per role, persisted.

A wrong PIN counts as one failure for every role it was checked against on that port (the
console cannot know which role the guess was for). After ``max_failures`` failures in a row a
role's logins on that port are refused for ``lockout_s``, doubling with every further lock-out
up to ``lockout_max_s``. Only a success *of that role on that port* ends its back-off: an
operator logging in between guesses at the technician PIN resets nothing of the technician's.
While a role is locked out its hash is not checked at all, so a refusal never tells whether a
PIN was right.

Counts and lock-outs live in the state store (``controller/store/login_failures.py``) and
survive a restart. A lock-out ends at a wall-clock time; should the wall clock jump back (a Pi
without a real-time clock boots at an old time), what is left is cut to the lock-out's own
length, so it always ends within ``lockout_max_s``. Time is passed in.
"""

from __future__ import annotations

import math

from controller.console.roles import Role
from controller.store.login_failures import FailureRow, LoginFailures

MAX_BACKOFF_STEPS = 30  # 2**30 x the first lock-out is far past any lockout_max_s allowed


class Lockout:
    def __init__(self, store: LoginFailures, max_failures: int, lockout_s: float,
                 lockout_max_s: float) -> None:
        self._store = store
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.lockout_max_s = lockout_max_s

    def remaining(self, port: str, role: Role, wall: float) -> float:
        """Seconds until ``role`` may log in on ``port`` again (0 when it may)."""
        row = self._store.get(port, role.label)
        if not row.until_wall_time:
            return 0.0
        left = row.until_wall_time - wall
        cap = min(row.duration_s, self.lockout_max_s)
        if not math.isfinite(left) or left > cap:  # the wall clock went back: re-anchor
            left = cap
            self._store.put(FailureRow(port, role.label, row.failures, row.lockouts,
                                       wall + cap, row.duration_s))
        return max(0.0, left)

    def failure(self, port: str, role: Role, wall: float) -> float:
        """Record a wrong PIN against ``role``; returns the lock-out it starts (0: none)."""
        return self.failures(port, (role,), wall)[0]

    def failures(self, port: str, roles: tuple[Role, ...], wall: float) -> list[float]:
        """Record one wrong PIN against each of ``roles`` (one transaction); the lock-out each
        starts, in order (0: none)."""
        rows, started = [], []
        for role in roles:
            row = self._store.get(port, role.label)
            if row.failures + 1 < self.max_failures:
                rows.append(FailureRow(port, role.label, row.failures + 1, row.lockouts,
                                       row.until_wall_time, row.duration_s))
                started.append(0.0)
                continue
            step = min(row.lockouts, MAX_BACKOFF_STEPS)
            duration = min(self.lockout_s * 2.0 ** step, self.lockout_max_s)
            rows.append(FailureRow(port, role.label, 0, step + 1, wall + duration, duration))
            started.append(duration)
        self._store.put(*rows)
        return started

    def attempts_left(self, port: str, role: Role) -> int:
        return max(0, self.max_failures - self._store.get(port, role.label).failures)

    def success(self, port: str, role: Role) -> None:
        """``role`` logged in on ``port``: its count and back-off start again."""
        self._store.put(FailureRow(port, role.label))
