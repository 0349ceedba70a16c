"""Bytes from a terminal to whole lines: a small, bounded line editor with history.

Printable ASCII is inserted at the cursor and echoed; Left/Right (or Ctrl-B/Ctrl-F), Home/End
(or Ctrl-A/Ctrl-E), Backspace, Delete (or Ctrl-D), Ctrl-K and Ctrl-U edit the line; Up/Down (or
Ctrl-P/Ctrl-N) recall the lines the server chose to ``remember``; Tab completes and ``?`` explains
what may come next, through the injected :class:`Assist`. Ctrl-C cancels the line; CR, LF or
CRLF end it. Redrawing uses only backspace, spaces and the line's text, so any terminal works.

While a PIN is typed (``secret``) nothing is echoed, not even its length, and no key recalls or
completes. A line starting with ``$`` is a machine request: never echoed, no editing keys.
Escape sequences the editor does not know (or anything injected) are consumed whole and never
echoed; other control characters are dropped. Anything that is not printable ASCII, or a line
longer than the limit, makes the line an error at its end: the bytes are dropped, the buffer
never grows past the limit, and the editor never raises.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

ESC = 0x1B
CR, LF = 0x0D, 0x0A
BS, DEL = 0x08, 0x7F
CTRL_C = 0x03
TAB = 0x09
PRINTABLE = range(0x20, 0x7F)
CSI_FINAL = range(0x40, 0x7F)
MAX_ESCAPE_BYTES = 64  # a longer "sequence" is garbage: stop swallowing bytes
BEL = 0x07
CSI_INTRODUCERS = b"[O"
STRING_INTRODUCERS = b"]P_^X"
MACHINE_MARK = ord("$")
HELP_KEY = ord("?")
NEWLINE = b"\r\n"
HISTORY_LINES = 32
# Keys, from escape sequences (CSI or SS3 final byte, or CSI "n~") and Ctrl combinations
UP, DOWN, RIGHT, LEFT, HOME, END, DELETE, KILL_END, KILL_LINE = (
    "up", "down", "right", "left", "home", "end", "delete", "kill-end", "kill-line")
FINAL_KEYS = {ord("A"): UP, ord("B"): DOWN, ord("C"): RIGHT, ord("D"): LEFT, ord("H"): HOME,
              ord("F"): END}
TILDE_KEYS = {b"1": HOME, b"7": HOME, b"4": END, b"8": END, b"3": DELETE}
CTRL_KEYS = {0x01: HOME, 0x02: LEFT, 0x04: DELETE, 0x05: END, 0x06: RIGHT, 0x0B: KILL_END,
             0x0E: DOWN, 0x10: UP, 0x15: KILL_LINE}


class Kind(Enum):
    LINE = "line"  # a complete line of printable ASCII (possibly empty)
    ERROR = "error"  # the line was dropped; ``text`` says why
    CANCEL = "cancel"  # Ctrl-C


@dataclass(frozen=True, slots=True)
class LineEvent:
    kind: Kind
    text: str = ""
    machine: bool = False  # the line started with "$"


class Assist(Protocol):
    """What Tab and ``?`` ask (controller/console/completion.py)."""

    def complete(self, line: str) -> list[str]:
        """The words that may replace the last (partial) word of ``line``."""
        ...

    def explain(self, line: str) -> str:
        """What may come next after ``line``, as lines for the terminal."""
        ...


class LineEditor:
    def __init__(self, max_bytes: int, assist: Assist | None = None) -> None:
        self.max_bytes = max_bytes
        self.assist = assist
        self.secret = False  # a PIN is being typed: echo nothing
        self.prompt = b""  # the prompt before the line (redrawn after a Tab list or `?`)
        self._buf = bytearray()
        self._pos = 0  # the cursor, 0..len(buf)
        self._history: deque[str] = deque(maxlen=HISTORY_LINES)
        self._recall: int | None = None  # index into the history while browsing
        self._draft = ""  # the line being typed before browsing began
        self._overflow = False
        self._non_ascii = False
        self._seq = bytearray()  # an escape sequence after its ESC
        self._escape = False
        self._csi = False
        self._string = False
        self._after_cr = False

    @property
    def pending(self) -> bool:
        """Part of a line has been typed."""
        return bool(self._buf) or self._overflow or self._non_ascii

    def remember(self, line: str) -> None:
        """Keep ``line`` for Up/Down (the server decides: never a PIN)."""
        if line.strip() and (not self._history or self._history[-1] != line):
            self._history.append(line)

    def forget_history(self) -> None:
        self._history.clear()
        self._recall = None

    def feed(self, data: bytes) -> tuple[list[LineEvent], bytes]:
        """Consume ``data``; returns the finished events and the bytes to echo."""
        events: list[LineEvent] = []
        echo = bytearray()
        for byte in data:
            after_cr, self._after_cr = self._after_cr, False
            if self._escape:
                self._swallow(byte, echo)
            elif byte == ESC:
                self._end_escape()
                self._escape = True
            elif byte in (CR, LF):
                if byte == LF and after_cr:
                    continue  # CRLF is one line end
                self._after_cr = byte == CR
                events.append(self._finish(echo))
            elif byte in (BS, DEL):
                self._backspace(echo)
            elif byte == CTRL_C:
                self._clear()
                echo += b"^C" + NEWLINE
                events.append(LineEvent(Kind.CANCEL))
            elif byte == TAB:
                self._complete(echo)
            elif byte == HELP_KEY and self._assisted:
                self._explain(echo)
            elif byte in PRINTABLE:
                self._insert(byte, echo)
            elif byte >= 0x80:
                self._non_ascii = True
            elif byte in CTRL_KEYS:
                self._key(CTRL_KEYS[byte], echo)
            # any other control character is dropped
        return events, bytes(echo)

    # ----- state -------------------------------------------------------------------------
    @property
    def _machine(self) -> bool:
        return bool(self._buf) and self._buf[0] == MACHINE_MARK

    @property
    def _editing(self) -> bool:
        """Cursor keys and redraws apply (a person's line, not a PIN or a machine request)."""
        return not self.secret and not self._machine and not self._overflow

    @property
    def _assisted(self) -> bool:
        return self.assist is not None and self._editing

    # ----- escape sequences --------------------------------------------------------------
    def _swallow(self, byte: int, echo: bytearray) -> None:
        self._seq.append(byte)
        count = len(self._seq)
        if count == 1 and byte in CSI_INTRODUCERS:
            self._csi = True
        elif count == 1 and byte in STRING_INTRODUCERS:
            self._string = True  # OSC, DCS, APC, PM, SOS: up to BEL or ESC \
        elif self._string:
            if byte == BEL:
                self._end_escape()
            elif byte == ESC:
                self._end_escape()
                self._escape = True  # ESC \ (string terminator): the backslash is swallowed too
        elif not self._csi or byte not in PRINTABLE:
            self._end_escape()  # a two-byte sequence or garbage
        elif byte in CSI_FINAL:
            seq = bytes(self._seq)
            self._end_escape()
            key = TILDE_KEYS.get(seq[1:-1]) if byte == ord("~") else (
                FINAL_KEYS.get(byte) if len(seq) == 2 else None)
            if key is not None:
                self._key(key, echo)
        if count > MAX_ESCAPE_BYTES:
            self._end_escape()

    def _end_escape(self) -> None:
        self._escape = self._csi = self._string = False
        self._seq.clear()

    # ----- editing -----------------------------------------------------------------------
    def _insert(self, byte: int, echo: bytearray) -> None:
        if len(self._buf) >= self.max_bytes:
            self._overflow = True
            return
        if not self._editing:
            self._pos = len(self._buf)
        self._buf.insert(self._pos, byte)
        self._pos += 1
        if self._editing:
            tail = bytes(self._buf[self._pos:])
            echo += bytes([byte]) + tail + b"\b" * len(tail)

    def _backspace(self, echo: bytearray) -> None:
        if self._overflow or self._pos == 0:
            return
        visible = self._editing
        self._pos -= 1
        del self._buf[self._pos]
        if visible:
            tail = bytes(self._buf[self._pos:])
            echo += b"\b" + tail + b" " + b"\b" * (len(tail) + 1)

    def _key(self, key: str, echo: bytearray) -> None:
        if not self._editing:
            return
        buf, pos = self._buf, self._pos
        if key == LEFT and pos > 0:
            self._pos -= 1
            echo += b"\b"
        elif key == RIGHT and pos < len(buf):
            echo += buf[pos:pos + 1]
            self._pos += 1
        elif key == HOME:
            echo += b"\b" * pos
            self._pos = 0
        elif key == END:
            echo += buf[pos:]
            self._pos = len(buf)
        elif key == DELETE and pos < len(buf):
            del buf[pos]
            echo += buf[pos:] + b" " + b"\b" * (len(buf) - pos + 1)
        elif key == KILL_END:
            cut = len(buf) - pos
            del buf[pos:]
            echo += b" " * cut + b"\b" * cut
        elif key == KILL_LINE:
            self._replace("", echo)
        elif key in (UP, DOWN):
            self._browse(-1 if key == UP else 1, echo)

    def _browse(self, step: int, echo: bytearray) -> None:
        if not self._history:
            return
        index = len(self._history) if self._recall is None else self._recall
        index = max(0, min(len(self._history), index + step))
        if index == (len(self._history) if self._recall is None else self._recall):
            return
        if self._recall is None:
            self._draft = self._buf.decode("ascii", "replace")
        self._recall = None if index == len(self._history) else index
        self._replace(self._draft if self._recall is None else self._history[index], echo)

    def _replace(self, text: str, echo: bytearray) -> None:
        """Show ``text`` instead of the line: back to its start, write, blank what is left."""
        new = text.encode("ascii", "replace")[: self.max_bytes]
        gone = max(0, len(self._buf) - len(new))
        echo += b"\b" * self._pos + new + b" " * gone + b"\b" * gone
        self._buf[:] = new
        self._pos = len(new)

    # ----- Tab and ? -----------------------------------------------------------------------
    def _complete(self, echo: bytearray) -> None:
        if not self._assisted or self.assist is None or self._pos != len(self._buf):
            return
        line = self._buf.decode("ascii")
        typed = line.rsplit(" ", 1)[-1] if line else ""
        found = self.assist.complete(line)
        if not found:
            echo.append(BEL)
            return
        common = found[0]
        for word in found[1:]:
            while not word.startswith(common):
                common = common[:-1]
        ending = " " if len(found) == 1 else ""
        if len(common) > len(typed) or ending:
            for byte in (common[len(typed):] + ending).encode("ascii"):
                self._insert(byte, echo)
            return
        self._show(echo, "  ".join(found))

    def _explain(self, echo: bytearray) -> None:
        if self.assist is not None:
            self._show(echo, self.assist.explain(self._buf[:self._pos].decode("ascii")))

    def _show(self, echo: bytearray, text: str) -> None:
        """``text`` on lines of its own, then the prompt and the line again, cursor kept."""
        echo += NEWLINE + text.encode("ascii", "replace") + NEWLINE + self.prompt + self._buf
        echo += b"\b" * (len(self._buf) - self._pos)

    # ----- line end ----------------------------------------------------------------------
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
        self._pos = 0
        self._recall = None
        self._draft = ""
        self._overflow = self._non_ascii = False
        self._end_escape()
