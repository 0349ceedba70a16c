"""Arbitration between requesters: prioritised, optionally leased claims, resolved per field.

Every requester (a :class:`Source`) holds at most one :class:`Claim`. A claim states a mode, a
power limit, or both (``None`` = no opinion on that field), and optionally a lease: it then
releases itself ``lease_s`` after it was made. The mode is won by the highest-priority source
that states one. The power limit is resolved by two kinds of claim:

- a claim with a mode *and* a power limit is a wish for that mode (a dispatch order, "charge at
  up to 3 kW"): a higher-priority wish replaces every lower-priority limit;
- a power limit with no mode, and every limit of the ``safety`` source (thermal derating, the
  IEEE 1547 enter-service ramp), is a ceiling: it only ever lowers the limit that the
  lower-priority claims resolve to, never raises it. So a grid operator can cap the power of a
  charge the user asked for without taking over the mode, and its cap of 11 kW does not raise a
  schedule's 3 kW charge (an OCPP ExternalLimits or station maximum is a ceiling), nor does a
  derated charger charge harder than asked.

The power's winner is the source whose limit stands. With no claim stating a field, the mode is
``idle`` and the power limit is ``None`` (as much as the limits allow), both won by
``"default"``.

Priority, highest first, and why:

- ``safety``: the controller itself (shutdown, a future protection-driven stop). Nothing may
  outrank the safe state.
- ``technician``: a person at the charger with the enclosure open; what they ask for must not
  be overridden by any automation while they work.
- ``grid_operator``: a curtailment or dispatch order from the utility/aggregator. It outranks
  the household's own automation and wishes: it protects the shared network and is usually a
  contractual obligation (and it comes with a lease, so it ends by itself).
- ``schedule``: the household's energy manager (EMS, tariff schedule).
- ``user``: the owner's direct request (app, CLI, the configured start-up mode). Lowest, so
  automation the owner set up keeps working, but it is what remains when every lease is over.

A new claim from a source replaces that source's previous claim as a whole. A claim that fails
validation is refused with a reason and changes nothing. A lease that runs out is dropped at
the first ``claim``/``release``/``resolve`` at or after its end and recorded as an expiry; the
power limit then falls to the next winner and the dispatcher ramps to it. ``renew`` extends a
held lease quietly (the same claim again, e.g. the gateway's, every third of its lease).

Pure logic: time is passed in, nothing here does I/O. Records go to an optional listener (the
supervisor writes them to its event log) and to a bounded history for the console and status.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from controller.modes import requests
from controller.modes.requests import Request

EPSILON_S = 1e-9  # a lease ending at t is over at a tick at t (virtual-clock float sums)
HISTORY_LENGTH = 256
DEFAULT_SOURCE = "default"  # the winner of a field no claim states
DEFAULT_MODE = "idle"

# Names earlier callers used for the owner's own requests; they mean ``user``.
ALIASES = {"cli": "user", "config": "user"}


class Source(Enum):
    """Who asks; declaration order is the priority order, highest first (see the module doc)."""

    SAFETY = "safety"
    TECHNICIAN = "technician"
    GRID_OPERATOR = "grid_operator"
    SCHEDULE = "schedule"
    USER = "user"

    @property
    def rank(self) -> int:
        """0 for the highest priority; a smaller rank wins."""
        return _RANKS[self]

    @classmethod
    def parse(cls, name: Source | str) -> Source:
        """A source from its name (or a documented alias); ValueError naming the choices."""
        if isinstance(name, Source):
            return name
        try:
            return cls(ALIASES.get(name, name))
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise ValueError(f"source {name!r}: must be one of {allowed}") from None


_RANKS: dict[Source, int] = {source: rank for rank, source in enumerate(Source)}


@dataclass(frozen=True, slots=True)
class Claim:
    """What one source wants, from time ``t``; ``None`` fields state no opinion."""

    source: Source
    mode: str | None = None
    power_w: float | None = None  # a magnitude ceiling; the mode gives the direction
    lease_s: float | None = None  # None: held until released or replaced
    t: float = 0.0

    @property
    def expires_at(self) -> float | None:
        return None if self.lease_s is None else self.t + self.lease_s


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a claim: accepted, or refused with the reason the requester sees."""

    accepted: bool
    reason: str
    claim: Claim


@dataclass(frozen=True, slots=True)
class Resolution:
    """The winner of each field at one instant."""

    mode: str = DEFAULT_MODE
    mode_source: str = DEFAULT_SOURCE
    power_w: float | None = None
    power_source: str = DEFAULT_SOURCE

    def as_request(self) -> Request:
        """The resolved request the mode machine and the dispatcher act on (mode's source)."""
        return Request(self.mode, self.power_w, self.mode_source)


@dataclass(frozen=True, slots=True)
class ArbitrationRecord:
    """One claim (accepted or refused), release or expiry, as the report and event log show it."""

    t: float
    kind: str  # "claim", "release" or "expiry"
    source: str
    mode: str | None
    power_w: float | None
    lease_s: float | None
    accepted: bool
    reason: str

    def describe(self) -> str:
        what = self.mode or "no mode"
        if self.power_w is not None:
            what += f" at most {self.power_w:.0f} W"
        lease = "" if self.lease_s is None else f" for {self.lease_s:g} s"
        if self.kind == "claim":
            verdict = "accepted" if self.accepted else f"refused: {self.reason}"
            return f"{self.source} claims {what}{lease}: {verdict}"
        if self.kind == "expiry":
            return f"{self.source}'s claim ({what}{lease}) expired"
        return f"{self.source} releases its claim: {self.reason}"


@dataclass(frozen=True, slots=True)
class WinnerChange:
    """A field changed winner or value: ``field`` is ``"mode"`` or ``"power_w"``."""

    t: float
    field: str
    source: str
    value: str | float | None

    def describe(self) -> str:
        if self.field == "mode":
            return f"mode {self.value} (won by {self.source})"
        if self.value is None:
            return f"no power limit (won by {self.source})"
        return f"power limit {float(self.value):.0f} W (won by {self.source})"


Listener = Callable[[ArbitrationRecord | WinnerChange], None]


def _validate(claim: Claim, now: float, modes: Sequence[str]) -> str:
    """The reason a claim is refused, or "" when it is valid."""
    if claim.mode is None and claim.power_w is None:
        return "states neither a mode nor a power limit (to withdraw a claim, release it)"
    if claim.mode is not None and claim.mode not in modes:
        return f"mode {claim.mode!r} is not a known mode (known: {', '.join(modes)})"
    if claim.power_w is not None:
        if not math.isfinite(claim.power_w):
            return f"power_w = {claim.power_w}: must be a finite number of watts"
        if claim.power_w < 0:
            return (f"power_w = {claim.power_w:g}: must be >= 0 (a magnitude; the mode gives "
                    "the direction)")
    if claim.lease_s is not None and not (math.isfinite(claim.lease_s) and claim.lease_s > 0):
        return (f"lease_s = {claim.lease_s}: must be a finite number of seconds > 0 (omit it "
                "for a claim held until released)")
    if not math.isfinite(claim.t) or claim.t > now + EPSILON_S:
        return f"claim time t = {claim.t}: must not be later than now ({now})"
    expires = claim.expires_at
    if expires is not None and now >= expires - EPSILON_S:
        return f"lease already over at t = {expires:g} s (now {now:g} s)"
    return ""


def is_ceiling(claim: Claim) -> bool:
    """True when ``claim``'s power limit only ever lowers (see the module doc)."""
    return claim.mode is None or claim.source is Source.SAFETY


def standing_limit(by_rank: Sequence[Claim]) -> Claim | None:
    """The claim whose power limit stands among ``by_rank`` (highest priority first): walked
    from the lowest priority up, a wish replaces what stands and a ceiling replaces it only when
    lower. None when no claim states a power limit."""
    standing: Claim | None = None
    for held in reversed(by_rank):
        if held.power_w is None:
            continue
        if (standing is None or not is_ceiling(held)
                or held.power_w < (standing.power_w or 0.0)):
            standing = held
    return standing


class Arbiter:
    """Holds one claim per source and resolves the winner of each field."""

    def __init__(self, modes: Sequence[str] | None = None, history: int = HISTORY_LENGTH,
                 listener: Listener | None = None) -> None:
        # The modes list lives in controller.modes.requests; read it when built, never copied.
        self._modes = tuple(requests.MODES if modes is None else modes)
        self._claims: dict[Source, Claim] = {}
        self._last = Resolution()
        self._resolved = False  # ``_last`` is the resolution of ``_claims`` as they are now
        self._listener = listener
        self.history: deque[ArbitrationRecord] = deque(maxlen=history)
        self.winners: deque[WinnerChange] = deque(maxlen=history)

    @property
    def claims(self) -> dict[Source, Claim]:
        """The claims held now (highest priority first); expired leases may still be in it
        until the next ``claim``/``release``/``resolve``."""
        return dict(sorted(self._claims.items(), key=lambda item: item[0].rank))

    def claim(self, claim: Claim, now: float) -> Decision:
        """Validate and hold ``claim`` (replacing the source's previous one), or refuse it."""
        self._expire(now)
        reason = _validate(claim, now, self._modes)
        if not reason:
            self._claims[claim.source] = claim
            self._resolved = False
        self._record(ArbitrationRecord(now, "claim", claim.source.value, claim.mode,
                                       claim.power_w, claim.lease_s, not reason,
                                       reason or "accepted"))
        return Decision(not reason, reason or "accepted", claim)

    def renew(self, claim: Claim, now: float) -> Decision | None:
        """Extend the lease of the claim ``claim.source`` holds when ``claim`` states the same
        mode, power and lease (a renewal): it runs from ``now``, and nothing is recorded (the
        first claim and the expiry or release are). None when it is not a renewal (the caller
        makes a claim instead), including when the held claim has already expired."""
        self._expire(now)
        held = self._claims.get(claim.source)
        if held is None or held.lease_s is None or \
                (held.mode, held.power_w, held.lease_s) != (claim.mode, claim.power_w,
                                                           claim.lease_s):
            return None
        renewed = Claim(held.source, held.mode, held.power_w, held.lease_s, now)
        reason = _validate(renewed, now, self._modes)
        if reason:
            return None
        self._claims[held.source] = renewed
        self._resolved = False
        return Decision(True, "renewed", renewed)

    def release(self, source: Source, now: float) -> bool:
        """Withdraw ``source``'s claim; False (and recorded) when it held none."""
        self._expire(now)
        held = self._claims.pop(source, None)
        if held is None:
            self._record(ArbitrationRecord(now, "release", source.value, None, None, None,
                                           False, "no claim held"))
            return False
        self._resolved = False
        self._record(ArbitrationRecord(now, "release", source.value, held.mode, held.power_w,
                                       held.lease_s, True, "released"))
        return True

    def resolve(self, now: float) -> Resolution:
        """Drop expired leases, then the winner of each field; records every change.

        The winners depend on the claims alone: while they stay as they were at the last
        resolve (no claim, renewal, release or expiry since), that resolution is the answer
        (the loop resolves every tick; the claims change a few times a day)."""
        self._expire(now)
        if self._resolved:
            return self._last
        by_rank = sorted(self._claims.values(), key=lambda c: c.source.rank)
        mode = next((c for c in by_rank if c.mode is not None), None)
        power = standing_limit(by_rank)
        result = Resolution(
            mode=DEFAULT_MODE if mode is None or mode.mode is None else mode.mode,
            mode_source=DEFAULT_SOURCE if mode is None else mode.source.value,
            power_w=None if power is None else power.power_w,
            power_source=DEFAULT_SOURCE if power is None else power.source.value,
        )
        last = self._last
        if (result.mode, result.mode_source) != (last.mode, last.mode_source):
            self._record(WinnerChange(now, "mode", result.mode_source, result.mode))
        if (result.power_w, result.power_source) != (last.power_w, last.power_source):
            self._record(WinnerChange(now, "power_w", result.power_source, result.power_w))
        self._last = result
        self._resolved = True
        return result

    def _expire(self, now: float) -> None:
        ended: list[tuple[float, Claim]] = []
        for held in self._claims.values():
            end = held.expires_at
            if end is not None and now >= end - EPSILON_S:
                ended.append((end, held))
        for end, held in sorted(ended, key=lambda item: (item[0], item[1].source.rank)):
            del self._claims[held.source]
            self._resolved = False
            self._record(ArbitrationRecord(
                end, "expiry", held.source.value, held.mode, held.power_w, held.lease_s, True,
                f"lease of {held.lease_s:g} s ran out"))

    def _record(self, record: ArbitrationRecord | WinnerChange) -> None:
        if isinstance(record, WinnerChange):
            self.winners.append(record)
        else:
            self.history.append(record)
        if self._listener is not None:
            self._listener(record)
