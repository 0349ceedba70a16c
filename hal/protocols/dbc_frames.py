"""Checked encoding and decoding of one DBC message with cantools.

Encoding is strict: every signal must be given and lie within the DBC range, otherwise
:class:`hal.errors.ProtocolError` is raised naming the signal (never a silently wrapped value).
:func:`encode_saturated` is for values already saturated to their signals' ranges by the caller
(the simulated inverter's clamped status): it still refuses a non-finite value, but skips
cantools' range check, which costs more than the encoding itself.
Decoding checks the length and every signal's DBC range and raises :class:`FrameError`, whose
``reason`` is a short key suitable for a rejection counter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, Generic, TypeVar

import cantools.database
from cantools.database.can import Database, Message

from hal.errors import ProtocolError
from hal.protocols import dbc_path

BAD_LENGTH: Final = "bad_length"
BAD_CRC: Final = "bad_crc"
BAD_COUNTER: Final = "bad_counter"
OUT_OF_RANGE: Final = "out_of_range"
UNKNOWN_ID: Final = "unknown_id"

REJECT_REASONS: Final = (BAD_LENGTH, BAD_CRC, BAD_COUNTER, OUT_OF_RANGE, UNKNOWN_ID)

_RANGE_TOLERANCE: Final = 1e-6  # in units of the signal's scale, as cantools' own strict check
_DECIMALS: Final = 6  # decoded physical values are rounded to drop binary noise (0.1 * 2301)


class FrameError(ProtocolError):
    """A received frame failed a check; ``reason`` is one of :data:`REJECT_REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def load_database(name: str) -> Database:
    """The packaged DBC ``<name>.dbc`` (``inverter`` or ``chademo``), parsed strictly."""
    db = cantools.database.load_file(str(dbc_path(name)), database_format="dbc", strict=True)
    if not isinstance(db, Database):
        raise ProtocolError(f"{name}.dbc did not load as a CAN database")
    return db


def encode_strict(message: Message, values: Mapping[str, float]) -> bytes:
    """Encode physical ``values`` (all of the message's signals) with range checks.

    The last frame encoded per message is remembered with its values: values equal to them
    (every finite value the same, so they passed the same checks) give the same bytes without
    cantools (a sender of unchanged frames, as the CHAdeMO car and charger every 100 ms)."""
    data = _LAST_ENCODED.get(message, values)
    if data is None:
        data = _encode(message, values, strict=True)
        _LAST_ENCODED.put(message, dict(values), data)  # a copy: the caller's may change
    return data


def encode_saturated(message: Message, values: Mapping[str, float]) -> bytes:
    """:func:`encode_strict` for ``values`` the caller has saturated to every signal's range
    and resolution (never for a value from outside): non-finite values are still refused."""
    return _encode(message, values, strict=False)


def _encode(message: Message, values: Mapping[str, float], strict: bool) -> bytes:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ProtocolError(f"{message.name}: signal {name} is not finite ({value})")
    try:
        return bytes(message.encode(dict(values), scaling=True, padding=False, strict=strict))
    except (cantools.database.EncodeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"{message.name}: {exc}") from exc


_K = TypeVar("_K")
_V = TypeVar("_V")


class _LastPerMessage(Generic[_K, _V]):
    """An explicit speed cache (issue 20, docs/performance.md: the CHAdeMO frames' share of the
    realistic day): per message (by identity), the last key seen and its result. A key must
    compare equal to hit; at most ``_MAX_LIMITS`` messages are kept."""

    def __init__(self) -> None:
        # Keyed by the message itself (cantools' Message hashes by identity: no ``id`` call).
        self._last: dict[Message, tuple[_K, _V]] = {}

    def get(self, message: Message, key: object) -> _V | None:
        last = self._last.get(message)
        if last is not None and last[0] == key:
            return last[1]
        return None

    def put(self, message: Message, key: _K, result: _V) -> None:
        if len(self._last) >= _MAX_LIMITS:
            self._last.clear()
        self._last[message] = (key, result)


# encode_strict: the last values and their frame (NaN never equals itself, so a non-finite
# value always reaches the check); decode_checked: the last frame that passed and its values.
_LAST_ENCODED: _LastPerMessage[dict[str, float], bytes] = _LastPerMessage()


def check_length(message: Message, data: bytes) -> None:
    """Raise :class:`FrameError` unless ``data`` has exactly the message's length."""
    if len(data) != message.length:
        raise FrameError(BAD_LENGTH, f"{message.name}: wrong length {len(data)}")


# Per message (by identity): each signal's name and its allowed range with the tolerance
# applied. cantools' Signal attributes are properties (a call each); a frame read every tick
# would pay for them on every signal of every frame. Bounded (each codec loads its own
# messages, and a test session builds many): cleared when full.
_MAX_LIMITS: Final = 256
_Limits = tuple[tuple[str, float | None, float | None, float, float], ...]
_LIMITS: dict[int, tuple[Message, _Limits]] = {}
_NUMBER: Final = (int, float)


def _limits(message: Message) -> _Limits:
    known = _LIMITS.get(id(message))
    if known is not None and known[0] is message:
        return known[1]
    limits = tuple(
        (signal.name, signal.minimum, signal.maximum,
         -math.inf if signal.minimum is None
         else signal.minimum - abs(signal.scale) * _RANGE_TOLERANCE,
         math.inf if signal.maximum is None
         else signal.maximum + abs(signal.scale) * _RANGE_TOLERANCE)
        for signal in message.signals)
    if len(_LIMITS) >= _MAX_LIMITS:
        _LIMITS.clear()
    _LIMITS[id(message)] = (message, limits)  # the message is kept: its id stays unique
    return limits


def decode_checked(message: Message, data: bytes) -> dict[str, float]:
    """Physical values of every signal, after the length and DBC range checks.

    The last frame that passed them is remembered per message: the same bytes again give
    (a copy of) the same values without cantools."""
    values = _LAST_DECODED.get(message, data)
    if values is None:
        values = _decode_checked(message, data)
        _LAST_DECODED.put(message, bytes(data), values)
    return dict(values)


_LAST_DECODED: _LastPerMessage[bytes, dict[str, float]] = _LastPerMessage()


def _decode_checked(message: Message, data: bytes) -> dict[str, float]:
    check_length(message, data)
    decoded = message.decode(bytes(data), decode_choices=False, scaling=True)
    if type(decoded) is not dict and not isinstance(decoded, Mapping):  # the ABC check is slow
        raise ProtocolError(f"{message.name}: container messages are not supported")
    values: dict[str, float] = {}
    for name, low, high, lowest, highest in _limits(message):
        raw = decoded[name]
        if not isinstance(raw, _NUMBER):
            raise ProtocolError(f"{message.name}: signal {name} decoded to {raw!r}")
        value = round(float(raw), _DECIMALS)
        if value < lowest or value > highest:
            raise FrameError(
                OUT_OF_RANGE,
                f"{message.name}: out of range: {name}={value:g} (allowed {low}..{high})",
            )
        values[name] = value
    return values
