"""Payload-level helpers of the inverter codec: alive counter and CRC sealing, saturation to a
signal's range, multiplexed decode, and the memo of frames already decoded."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Final, Generic, TypeVar

import cantools.database
from cantools.database.can import Message

from hal.errors import ProtocolError
from hal.protocols.dbc_frames import OUT_OF_RANGE, FrameError
from hal.protocols.e2e import seal_frame
from hal.protocols.inverter_frames import COUNTER_MASK

Bounds = tuple[float, float, float, float]  # minimum, maximum, scale, offset
# One decoded frame per alive counter value and page (settings frames have up to 4 pages).
_SEEN_PER_FRAME: Final = (COUNTER_MASK + 1) * 4
_T = TypeVar("_T")


class SeenFrames(Generic[_T]):
    """Decoded frames by frame ID and exact bytes. A sender whose values do not change repeats
    the same few frames (one per alive counter value): each is checked and decoded once, then
    served from here (decoded frames are immutable). Bounded: a frame ID's entries are dropped
    when it reaches :data:`_SEEN_PER_FRAME`. Only frames that passed every check get in."""

    def __init__(self) -> None:
        self._by_id: dict[int, dict[bytes, _T]] = {}

    def decode(self, frame_id: int, data: bytes, decode: Callable[[int, bytes], _T]) -> _T:
        key = bytes(data)
        seen = self._by_id.setdefault(frame_id, {})
        known = seen.get(key)
        if known is not None:
            return known
        frame = decode(frame_id, key)  # raises FrameError for a bad frame: nothing stored
        if len(seen) >= _SEEN_PER_FRAME:
            seen.clear()
        seen[key] = frame
        return frame


def check_counter(frame_id: int, counter: int) -> None:
    if not 0 <= counter <= COUNTER_MASK:
        raise ProtocolError(f"frame 0x{frame_id:03X}: AliveCounter {counter} is not 0..15")


def sealed(frame_id: int, data: bytes, counter: int) -> bytes:
    """``data`` with its counter nibble replaced by ``counter`` (0..15) and the CRC redone."""
    return seal_frame(frame_id, bytes([data[0] & ~COUNTER_MASK & 0xFF | counter]) + data[1:])


def clamp_to(bounds: Bounds, value: float) -> float:
    """``value`` saturated to the signal's range and rounded to its resolution (NaN passes:
    the strict encoder refuses it with the signal named)."""
    if math.isnan(value):
        return value
    low, high, scale, offset = bounds
    inside = low if value < low else high if value > high else value
    steps = round((inside - offset) / scale)
    resolved = round(steps * scale + offset, _DECIMALS)
    return low if resolved < low else high if resolved > high else resolved


_RANGE_TOLERANCE: Final = 1e-6  # in units of the signal's scale, as dbc_frames.decode_checked
_DECIMALS: Final = 6


def decode_paged(message: Message, data: bytes) -> dict[str, float]:
    """:func:`decode_checked` for a multiplexed message: only the selected page's signals."""
    try:
        decoded = message.decode(bytes(data), decode_choices=False, scaling=True)
    except cantools.database.DecodeError as exc:  # a page the DBC does not define
        raise FrameError(OUT_OF_RANGE, f"{message.name}: out of range: {exc}") from exc
    if not isinstance(decoded, Mapping):
        raise ProtocolError(f"{message.name}: container messages are not supported")
    values: dict[str, float] = {}
    for name, raw in decoded.items():
        if not isinstance(raw, int | float):
            raise ProtocolError(f"{message.name}: signal {name} decoded to {raw!r}")
        signal = message.get_signal_by_name(name)
        value = round(float(raw), _DECIMALS)
        tolerance = abs(signal.scale) * _RANGE_TOLERANCE
        low, high = signal.minimum, signal.maximum
        if (low is not None and value < low - tolerance) or (
            high is not None and value > high + tolerance
        ):
            raise FrameError(
                OUT_OF_RANGE,
                f"{message.name}: out of range: {name}={value:g} (allowed {low}..{high})",
            )
        values[name] = value
    return values
