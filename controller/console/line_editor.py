"""Bytes from a terminal to whole lines: a small, bounded line editor.

Printable ASCII is collected and echoed (``*`` instead while a PIN is typed); backspace (BS or
DEL) erases; Ctrl-C cancels the line; CR, LF or CRLF end it. Escape sequences (arrow keys, or
anything injected) are consumed whole and never echoed; other control characters are dropped. A
line starting with ``$`` is a machine request and is not echoed. Anything that is not printable
ASCII, or a line longer than the limit, makes the line an error at its end: the bytes are
dropped, the buffer never grows past the limit, and the editor never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ESC = 0x1B
CR, LF = 0x0D, 0x0A
BS, DEL = 0x08, 0x7F
CTRL_C = 0x03
PRINTABLE = range(0x20, 0x7F)
CSI_FINAL = range(0x40, 0x7F)
MAX_ESCAPE_BYTES = 64  # a longer "sequence" is garbage: stop swallowing bytes
BEL = 0x07
CSI_INTRODUCERS = b"[O"
STRING_INTRODUCERS = b"]P_^X"
MACHINE_MARK = ord("$")
ERASE = b"\b \b"
NEWLINE = b"\r\n"


class Kind(Enum):
    LINE = "line"  # a complete line of printable ASCII (possibly empty)
    ERROR = "error"  # the line was dropped; ``text`` says why
    CANCEL = "cancel"  # Ctrl-C


@dataclass(frozen=True, slots=True)
class LineEvent:
    kind: Kind
    text: str = ""
    machine: bool = False  # the line started with "$"


class LineEditor:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.secret = False  # echo "*" (a PIN is being typed)
        self._buf = bytearray()
        self._overflow = False
        self._non_ascii = False
        self._escape = 0  # bytes of an escape sequence swallowed so far (0: none)
        self._csi = False
        self._string = False
        self._after_cr = False

    @property
    def pending(self) -> bool:
        """Part of a line has been typed."""
        return bool(self._buf) or self._overflow or self._non_ascii

    def feed(self, data: bytes) -> tuple[list[LineEvent], bytes]:
        """Consume ``data``; returns the finished events and the bytes to echo."""
        events: list[LineEvent] = []
        echo = bytearray()
        for byte in data:
            after_cr, self._after_cr = self._after_cr, False
            if self._escape:
                self._swallow(byte)
            elif byte == ESC:
                self._end_escape()
                self._escape = 1
            elif byte in (CR, LF):
                if byte == LF and after_cr:
                    continue  # CRLF is one line end
                self._after_cr = byte == CR
                events.append(self._finish(echo))
            elif byte in (BS, DEL):
                if self._buf and not self._overflow:
                    self._buf.pop()
                    if not self._machine:
                        echo += ERASE
            elif byte == CTRL_C:
                self._clear()
                echo += b"^C" + NEWLINE
                events.append(LineEvent(Kind.CANCEL))
            elif byte in PRINTABLE:
                self._add(byte, echo)
            elif byte >= 0x80:
                self._non_ascii = True
            # any other control character is dropped
        return events, bytes(echo)

    @property
    def _machine(self) -> bool:
        return bool(self._buf) and self._buf[0] == MACHINE_MARK

    def _swallow(self, byte: int) -> None:
        self._escape += 1
        if self._escape == 2 and byte in CSI_INTRODUCERS:
            self._csi = True
        elif self._escape == 2 and byte in STRING_INTRODUCERS:
            self._string = True  # OSC, DCS, APC, PM, SOS: up to BEL or ESC \
        elif self._string:
            if byte == BEL:
                self._end_escape()
            elif byte == ESC:
                self._end_escape()
                self._escape = 1  # ESC \ (string terminator): the backslash is swallowed too
        elif not self._csi or byte in CSI_FINAL or byte not in PRINTABLE:
            self._end_escape()  # a two-byte sequence, the CSI final byte, or garbage
        if self._escape > MAX_ESCAPE_BYTES:
            self._end_escape()

    def _end_escape(self) -> None:
        self._escape = 0
        self._csi = self._string = False

    def _add(self, byte: int, echo: bytearray) -> None:
        if len(self._buf) >= self.max_bytes:
            self._overflow = True
            return
        self._buf.append(byte)
        if not self._machine:
            echo.append(ord("*") if self.secret else byte)

    def _finish(self, echo: bytearray) -> LineEvent:
        machine = self._machine
        if not machine:
            echo += NEWLINE
        if self._overflow:
            event = LineEvent(Kind.ERROR, f"line longer than {self.max_bytes} bytes: dropped",
                              machine)
        elif self._non_ascii:
            event = LineEvent(Kind.ERROR, "line has bytes that are not printable ASCII "
                              "(commands are plain ASCII): dropped", machine)
        else:
            event = LineEvent(Kind.LINE, self._buf.decode("ascii"), machine)
        self._clear()
        return event

    def _clear(self) -> None:
        self._buf.clear()
        self._overflow = self._non_ascii = False
        self._end_escape()
