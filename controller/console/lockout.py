"""Login lock-out with back-off: after ``max_failures`` wrong PINs the console refuses logins for
``lockout_s``, doubling with every further lock-out up to ``lockout_max_s``. One instance is shared
by every port, so trying the PINs on several ports at once gains nothing. Time is passed in."""

from __future__ import annotations


class Lockout:
    def __init__(self, max_failures: int, lockout_s: float, lockout_max_s: float) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.lockout_max_s = lockout_max_s
        self.failures = 0  # wrong PINs since the last success or lock-out
        self.lockouts = 0  # consecutive lock-outs since the last success (the back-off step)
        self.until = 0.0

    def remaining(self, now: float) -> float:
        """Seconds until logins are accepted again (0 when they are)."""
        return max(0.0, self.until - now)

    def failure(self, now: float) -> float:
        """Record a wrong PIN; returns the lock-out it starts in seconds (0: none)."""
        self.failures += 1
        if self.failures < self.max_failures:
            return 0.0
        duration = min(self.lockout_s * 2.0 ** self.lockouts, self.lockout_max_s)
        self.lockouts += 1
        self.failures = 0
        self.until = now + duration
        return duration

    def success(self) -> None:
        self.failures = 0
        self.lockouts = 0
        self.until = 0.0
