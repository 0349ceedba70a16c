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
from typing import Final

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
    """Encode physical ``values`` (all of the message's signals) with range checks."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise ProtocolError(f"{message.name}: signal {name} is not finite ({value})")
    try:
        return bytes(message.encode(dict(values), scaling=True, padding=False, strict=True))
    except (cantools.database.EncodeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"{message.name}: {exc}") from exc


def encode_saturated(message: Message, values: Mapping[str, float]) -> bytes:
    """:func:`encode_strict` for ``values`` the caller has saturated to every signal's range
    and resolution (never for a value from outside): non-finite values are still refused."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise ProtocolError(f"{message.name}: signal {name} is not finite ({value})")
    try:
        return bytes(message.encode(dict(values), scaling=True, padding=False, strict=False))
    except (cantools.database.EncodeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"{message.name}: {exc}") from exc


def check_length(message: Message, data: bytes) -> None:
    """Raise :class:`FrameError` unless ``data`` has exactly the message's length."""
    if len(data) != message.length:
        raise FrameError(BAD_LENGTH, f"{message.name}: wrong length {len(data)}")


def decode_checked(message: Message, data: bytes) -> dict[str, float]:
    """Physical values of every signal, after the length and DBC range checks."""
    check_length(message, data)
    decoded = message.decode(bytes(data), decode_choices=False, scaling=True)
    if not isinstance(decoded, Mapping):
        raise ProtocolError(f"{message.name}: container messages are not supported")
    values: dict[str, float] = {}
    for signal in message.signals:
        raw = decoded[signal.name]
        if not isinstance(raw, int | float):
            raise ProtocolError(f"{message.name}: signal {signal.name} decoded to {raw!r}")
        value = round(float(raw), _DECIMALS)
        tolerance = abs(signal.scale) * _RANGE_TOLERANCE
        low = signal.minimum
        high = signal.maximum
        if (low is not None and value < low - tolerance) or (
            high is not None and value > high + tolerance
        ):
            raise FrameError(
                OUT_OF_RANGE,
                f"{message.name}: out of range: {signal.name}={value:g} (allowed {low}..{high})",
            )
        values[signal.name] = value
    return values
