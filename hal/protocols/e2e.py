"""End-to-end protection of the controller<->inverter frames: CRC-8 and a 4-bit alive counter.

Every inverter-protocol frame has the alive counter in the low nibble of byte 0 and a CRC-8
(SAE J1850: polynomial 0x1D, initial value 0xFF, final XOR 0xFF) in byte 7. The CRC covers the
11-bit frame ID (two bytes, little-endian) followed by data bytes 0..6, so a frame that arrives
under the wrong ID fails the check even when its payload is intact.

The sender advances its counter once per transmission of a frame ID; the receiver accepts a frame
only when the counter moved forward by 1..``max_step`` since the previous frame of that ID. A
step of 0 is a repeated or frozen sender (its loop hung while the hardware kept sending), a larger
step means too many frames were lost or the frame is out of order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

CRC8_POLY = 0x1D
CRC8_INIT = 0xFF
CRC8_XOR_OUT = 0xFF
CRC8_CHECK = 0x4B  # CRC of b"123456789", the catalogue check value of CRC-8/SAE-J1850

FRAME_LENGTH = 8
PROTECTED_LENGTH = 7  # bytes 0..6 are covered; byte 7 holds the CRC
CRC_BYTE = 7
MAX_STANDARD_ID = 0x7FF

ALIVE_COUNTER_MODULO = 16
ALIVE_COUNTER_MASK = 0x0F
DEFAULT_MAX_COUNTER_STEP = 2


def _build_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ CRC8_POLY) if crc & 0x80 else (crc << 1)
            crc &= 0xFF
        table.append(crc)
    return tuple(table)


_CRC8_TABLE = _build_table()


def _crc8_update(crc: int, data: Iterable[int]) -> int:
    """The CRC register after feeding ``data`` (table-driven, no final XOR)."""
    for byte in data:
        crc = _CRC8_TABLE[crc ^ byte]
    return crc


def crc8_sae_j1850(data: bytes) -> int:
    """CRC-8/SAE-J1850 of ``data``."""
    return _crc8_update(CRC8_INIT, data) ^ CRC8_XOR_OUT


# The CRC register after each frame ID's two bytes (a sender seals and a receiver checks the
# same few IDs every tick). At most 2,048 entries (11-bit IDs).
_ID_CRC: dict[int, int] = {}


def crc8_for_frame(frame_id: int, payload7: bytes) -> int:
    """The CRC byte of a frame: over the frame ID (2 bytes, little-endian) and data bytes 0..6."""
    crc = _ID_CRC.get(frame_id)
    if crc is None:
        if not 0 <= frame_id <= MAX_STANDARD_ID:
            raise ValueError(f"frame ID 0x{frame_id:X} is not an 11-bit identifier")
        crc = _ID_CRC[frame_id] = _crc8_update(CRC8_INIT, (frame_id & 0xFF, frame_id >> 8))
    if len(payload7) != PROTECTED_LENGTH:
        raise ValueError(f"CRC covers exactly {PROTECTED_LENGTH} data bytes, got {len(payload7)}")
    table = _CRC8_TABLE
    for byte in payload7:  # _crc8_update inlined: every protected frame comes here
        crc = table[crc ^ byte]
    return crc ^ CRC8_XOR_OUT


def seal_frame(frame_id: int, data: bytes) -> bytes:
    """``data`` (8 bytes) with byte 7 replaced by the frame's CRC."""
    if len(data) != FRAME_LENGTH:
        raise ValueError(f"a protected frame has {FRAME_LENGTH} bytes, got {len(data)}")
    head = bytes(data[:PROTECTED_LENGTH])
    return head + bytes([crc8_for_frame(frame_id, head)])


def crc_ok(frame_id: int, data: bytes) -> bool:
    """True when the 8-byte ``data`` carries the right CRC for ``frame_id``."""
    if len(data) != FRAME_LENGTH:
        return False
    return data[CRC_BYTE] == crc8_for_frame(frame_id, data[:PROTECTED_LENGTH])


def counter_step(previous: int, current: int) -> int:
    """How far the 4-bit counter moved from ``previous`` to ``current`` (0..15, wrapping)."""
    return (current - previous) % ALIVE_COUNTER_MODULO


def counter_progress_ok(
    previous: int, current: int, max_step: int = DEFAULT_MAX_COUNTER_STEP
) -> bool:
    """True when the counter advanced by 1..``max_step``; 0 (repeated/frozen) or more is refused."""
    return 1 <= counter_step(previous, current) <= max_step


class AliveCounter:
    """A sender's 4-bit alive counter: ``value`` is the last one sent; wraps 15 -> 0."""

    def __init__(self, start: int = 0) -> None:
        self.value = start & ALIVE_COUNTER_MASK

    @property
    def next_value(self) -> int:
        """The value the next frame will carry (without advancing)."""
        return (self.value + 1) % ALIVE_COUNTER_MODULO

    def advance(self) -> int:
        """Move to the next value and return it."""
        self.value = (self.value + 1) % ALIVE_COUNTER_MODULO  # next_value, without its call
        return self.value


class CounterMonitor:
    """A receiver's counter check, one sequence per key (usually the frame ID).

    The first frame of a key is accepted (nothing to compare with). Every later frame must
    advance by 1..``max_step`` from the previous *CRC-valid* frame of the same key, whether that
    one was accepted or not: a frozen sender is refused for as long as it stays frozen, while a
    single lost burst or a restarted sender costs exactly one refused frame before the sequence
    is trusted again.
    """

    def __init__(self, max_step: int = DEFAULT_MAX_COUNTER_STEP) -> None:
        if not 1 <= max_step < ALIVE_COUNTER_MODULO:
            raise ValueError(f"max_step must be 1..{ALIVE_COUNTER_MODULO - 1}, got {max_step}")
        self.max_step = max_step
        self._previous: dict[Hashable, int] = {}

    def check(self, key: Hashable, counter: int) -> bool:
        """Record ``counter`` for ``key`` and tell whether it progressed correctly."""
        previous = self._previous.get(key)
        self._previous[key] = counter & ALIVE_COUNTER_MASK
        if previous is None:
            return True
        # counter_progress_ok inlined (every received status frame comes here):
        return 1 <= (counter - previous) % ALIVE_COUNTER_MODULO <= self.max_step

    def reset(self, key: Hashable | None = None) -> None:
        """Forget one key's sequence (or all of them)."""
        if key is None:
            self._previous.clear()
        else:
            self._previous.pop(key, None)
