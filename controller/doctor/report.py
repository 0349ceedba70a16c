"""One doctor check's result, its printed form, and the run's verdict.

Each check prints one line, ``PASS|FAIL|SKIP  name  detail``, and every FAIL a ``hint:`` line
saying what to check. The exit code is 0 when nothing failed and 1 otherwise (2 is the runner's:
a config that cannot be used at all).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_CONFIG = 2
NAME_WIDTH = 20
HINT_INDENT = " " * 6


class Outcome(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    """A check's verdict. ``detail`` says what was found; ``hint`` (FAIL) what to check;
    ``items`` are further findings printed one per line under the check (e.g. config problems).
    """

    outcome: Outcome
    name: str
    detail: str
    hint: str = ""
    items: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.outcome.value}  {self.name:<{NAME_WIDTH}}  {self.detail}"]
        out += [f"{HINT_INDENT}- {item}" for item in self.items]
        if self.outcome is Outcome.FAIL and self.hint:
            out.append(f"{HINT_INDENT}hint: {self.hint}")
        return out


def passed(name: str, detail: str) -> Check:
    return Check(Outcome.PASS, name, detail)


def failed(name: str, detail: str, hint: str, items: Iterable[str] = ()) -> Check:
    return Check(Outcome.FAIL, name, detail, hint, tuple(items))


def skipped(name: str, reason: str) -> Check:
    return Check(Outcome.SKIP, name, reason)


Emit = Callable[[Check], None]


@dataclass
class Report:
    """Collects checks in order, handing each to ``emit`` as soon as it is known."""

    emit: Emit | None = None
    checks: list[Check] = field(default_factory=list)
    config_unusable: bool = False

    def add(self, checks: Check | Iterable[Check]) -> None:
        for check in [checks] if isinstance(checks, Check) else list(checks):
            self.checks.append(check)
            if self.emit is not None:
                self.emit(check)

    def get(self, name: str) -> Check:
        """The check called ``name`` (KeyError when there is none)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.outcome is Outcome.FAIL]

    @property
    def exit_code(self) -> int:
        if self.config_unusable:
            return EXIT_BAD_CONFIG
        return EXIT_FAILED if self.failures else EXIT_OK

    def summary(self) -> str:
        counts = {o: sum(1 for c in self.checks if c.outcome is o) for o in Outcome}
        verdict = ("config unusable: fix it first" if self.config_unusable
                   else "all good" if not self.failures else "fix each FAIL above")
        return (f"doctor: {len(self.checks)} checks, {counts[Outcome.PASS]} passed, "
                f"{counts[Outcome.FAIL]} failed, {counts[Outcome.SKIP]} skipped: {verdict}")
