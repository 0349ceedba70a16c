"""Machine mode: one framed request per line, one JSON reply per line.

Request: ``$BODY*CCCC`` where BODY is the command and its arguments, optionally ending in a
sequence id ``:ID`` (1-8 letters or digits, echoed in the reply), and CCCC is the CRC-16/CCITT-
FALSE (poly 0x1021, init 0xFFFF; Python: ``binascii.crc_hqx(body, 0xFFFF)``) of BODY's bytes in
four hex digits. The checksum is required: a request without one is refused, unlike RAPI.

Reply: one JSON object per line, keys sorted: ``ok``, ``cmd``, ``seq`` (when given), ``text``
(what a person would read), ``data`` (the structured result) or ``error``. Asynchronous events
(``events on``) are JSON lines with an ``event`` key and no ``seq``.
"""

from __future__ import annotations

import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

CRC_INIT = 0xFFFF
SEQ_PATTERN = re.compile(r"^[0-9A-Za-z]{1,8}$")
CRC_PATTERN = re.compile(r"^[0-9A-Fa-f]{4}$")


def crc16(body: str) -> int:
    return binascii.crc_hqx(body.encode("ascii"), CRC_INIT)


def frame(body: str) -> str:
    """A request line for ``body`` (what a script sends, without the line end)."""
    return f"${body}*{crc16(body):04X}"


@dataclass(frozen=True, slots=True)
class Request:
    words: list[str]
    seq: str | None


class FrameError(ValueError):
    """The line is not a valid request; ``seq`` is echoed when it could be read."""

    def __init__(self, message: str, seq: str | None = None) -> None:
        super().__init__(message)
        self.seq = seq


def _seq_of(body: str) -> tuple[str, str | None, str]:
    """The text before the sequence id, the id, and why a last word ``:...`` is not one."""
    head, sep, tail = body.rpartition(":")
    if sep and (not head or head.endswith(" ")):
        if SEQ_PATTERN.match(tail):
            return head, tail, ""
        return head, None, (f"sequence id {':' + tail[:16]!r} must be 1 to 8 letters or digits "
                            "(e.g. :7 or :A12)")
    return body, None, ""


def parse_request(line: str) -> Request:
    """A request from a line starting with ``$``; FrameError saying what is wrong."""
    body, star, crc = line[1:].rpartition("*")
    if not star:
        _, seq, _ = _seq_of(line[1:])
        raise FrameError("checksum missing: end the request with *CCCC (CRC-16/CCITT-FALSE of "
                         "the text between $ and *)", seq)
    text, seq, bad_seq = _seq_of(body)
    if not CRC_PATTERN.match(crc):
        raise FrameError(f"checksum {crc[:8]!r}: must be four hex digits", seq)
    expected = crc16(body)
    if int(crc, 16) != expected:
        raise FrameError(f"checksum mismatch: got {crc.upper()}, computed {expected:04X}", seq)
    if bad_seq:
        raise FrameError(bad_seq)
    words = text.split()
    if not words:
        raise FrameError("empty request", seq)
    return Request(words, seq)


def _clean(value: Any) -> Any:
    """JSON without NaN or infinity (not JSON): such numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(_clean(value), sort_keys=True, default=str, allow_nan=False)


def reply_line(ok: bool, cmd: str, seq: str | None, text: str,
               data: dict[str, Any] | None = None, error: str | None = None) -> str:
    reply: dict[str, Any] = {"ok": ok, "cmd": cmd, "text": text}
    if seq is not None:
        reply["seq"] = seq
    if error is not None:
        reply["error"] = error
    else:
        reply["data"] = data or {}
    return _dumps(reply)


def event_line(kind: str, data: dict[str, Any]) -> str:
    return _dumps({"event": kind, **data})
