"""Logging in: PIN syntax, the per-port, per-role lock-out, the check off the loop's thread.

A malformed PIN (not 4 to 12 digits) is refused at once and counts for nothing: it cannot match
any hash, so it tells an attacker nothing. A well-formed PIN is checked only against the roles
not locked out on that port (controller/console/lockout.py), on the worker thread
(controller/console/auth.py); a wrong one counts against each of those roles. Every outcome is
audited; the PIN never is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from controller.config.model import ConsoleSettings
from controller.console.auth import PinChecker, configured_hashes
from controller.console.context import Reply, ok, refuse
from controller.console.lockout import Lockout
from controller.console.pin_hash import pin_problem
from controller.console.roles import Role
from controller.console.session import PendingLogin, Session
from controller.store.login_failures import LoginFailures

log = logging.getLogger("v2x.console")

Audit = Callable[[Session, str], None]  # (session, outcome) of a `login`


def _roles_text(roles: list[Role]) -> str:
    return " and ".join(r.label for r in sorted(roles))


class Logins:
    def __init__(self, settings: ConsoleSettings, store: LoginFailures, audit: Audit) -> None:
        self.lockout = Lockout(store, settings.max_failures, settings.lockout_s,
                               settings.lockout_max_s)
        self._hashes = configured_hashes(settings)
        self._checker = PinChecker()
        self._audit = audit

    def configure(self, settings: ConsoleSettings) -> None:
        self.lockout.max_failures = settings.max_failures
        self.lockout.lockout_s = settings.lockout_s
        self.lockout.lockout_max_s = settings.lockout_max_s

    def locked_text(self, port: str, wall: float) -> str:
        """Which roles are locked out on ``port`` and for how long ("" when none)."""
        waits: dict[int, list[Role]] = {}
        for role, _ in self._hashes:
            wait = self.lockout.remaining(port, role, wall)
            if wait > 0:
                waits.setdefault(max(1, round(wait)), []).append(role)
        return "; ".join(f"{_roles_text(roles)} logins on this port are locked out for {s} s "
                         "more" for s, roles in sorted(waits.items()))

    def begin(self, session: Session, pin: str, wall: float) -> Reply:
        if session.login is not None:
            return refuse("refused: a PIN is already being checked on this port")
        if not self._hashes:
            return refuse("refused: no PIN is configured (console.operator_pin_hash, "
                          "console.technician_pin_hash)")
        problem = pin_problem(pin)
        if problem:
            self._audit(session, "malformed PIN (not counted)")
            return refuse(f"refused: not a PIN ({problem}); not counted as an attempt")
        open_roles = [(role, stored) for role, stored in self._hashes
                      if self.lockout.remaining(session.port, role, wall) == 0]
        if not open_roles:
            text = self.locked_text(session.port, wall)
            self._audit(session, f"refused: {text}")
            return refuse(f"refused: {text}")
        future = self._checker.submit(pin, open_roles)
        session.login = PendingLogin(future, session.machine, session.current_seq,
                                     tuple(role for role, _ in open_roles))
        return Reply(True, "checking PIN", pending=True)

    def poll(self, session: Session, wall: float) -> tuple[PendingLogin, Reply] | None:
        """The finished check's request and reply (the session's role set), or None."""
        pending = session.login
        if pending is None or not pending.result.done():
            return None
        session.login = None
        try:
            role = pending.result.result()
        except Exception:
            log.exception("PIN check failed")
            role = None
        if role is not None and self.lockout.remaining(session.port, role, wall) > 0:
            reply = refuse(f"refused: {self.locked_text(session.port, wall)}")
        elif role is None:
            reply = self._wrong(session, pending.roles, wall)
        else:
            self.lockout.success(session.port, role)
            session.role = role
            self._audit(session, "ok")
            reply = ok(f"logged in as {role.label}", role=role.label)
        return pending, reply

    def _wrong(self, session: Session, roles: tuple[Role, ...], wall: float) -> Reply:
        ordered = tuple(sorted(roles))
        started = list(zip(ordered, self.lockout.failures(session.port, ordered, wall),
                           strict=True))
        locked = [(role, seconds) for role, seconds in started if seconds]
        if locked:
            what = "; ".join(f"{role.label} locked out for {s:.0f} s" for role, s in locked)
            self._audit(session, f"wrong PIN; {what}")
            by_time = {s: [r for r, t in locked if t == s] for _, s in locked}
            said = "; ".join(f"{_roles_text(rs)} logins on this port locked out for {s:.0f} s"
                             for s, rs in by_time.items())
            return refuse(f"refused: wrong PIN; {said}")
        left = min(self.lockout.attempts_left(session.port, role) for role in roles)
        self._audit(session, f"wrong PIN ({left} left before lock-out)")
        still = self.locked_text(session.port, wall)
        return refuse(f"refused: wrong PIN ({left} attempts left before lock-out)"
                      + (f"; {still}" if still else ""))

    def close(self) -> None:
        self._checker.close()
