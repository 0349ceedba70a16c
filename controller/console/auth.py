"""PIN checks off the control loop's thread.

scrypt is deliberately slow (tens of milliseconds at the default cost), longer than a control
tick, so each check runs on one worker thread and the loop polls the result. Every hash handed
in (the roles not locked out on that port: controller/console/login.py) is checked for every
attempt, so the time taken says nothing about which of them matched.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from controller.config.model import ConsoleSettings
from controller.console.pin_hash import PinHash, parse_pin_hash, verify_pin
from controller.console.roles import Role


def configured_hashes(settings: ConsoleSettings) -> list[tuple[Role, PinHash]]:
    """The roles that can log in and their hashes (validated at config load)."""
    found = []
    for role, text in ((Role.TECHNICIAN, settings.technician_pin_hash),
                       (Role.OPERATOR, settings.operator_pin_hash)):
        if text:
            found.append((role, parse_pin_hash(text)))
    return found


def _check(pin: str, hashes: list[tuple[Role, PinHash]]) -> Role | None:
    matches = [role for role, stored in hashes if verify_pin(pin, stored)]
    return max(matches) if matches else None


class PinChecker:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-pin")

    def submit(self, pin: str, hashes: list[tuple[Role, PinHash]]) -> Future[Role | None]:
        return self._pool.submit(_check, pin, hashes)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
