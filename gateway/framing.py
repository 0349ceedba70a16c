"""The controller's framed machine protocol, client side (docs/console.md, "Machine mode").

A request is ``$BODY*CCCC`` with an optional sequence id ``:ID`` at the end of BODY and CCCC the
CRC-16/CCITT-FALSE of BODY; every reply is one JSON line echoing the id, every event a JSON line
with an ``event`` key. The gateway implements the protocol from its documentation, as any
client would: it never imports the controller.
"""

from __future__ import annotations

import binascii
import json
import math
from typing import Any

CRC_INIT = 0xFFFF
SEQ_LIMIT = 10**8  # sequence ids are 1 to 8 digits


def crc16(body: str) -> int:
    return binascii.crc_hqx(body.encode("ascii"), CRC_INIT)


def frame(body: str, seq: str | None = None) -> bytes:
    """The request line for ``body`` (with its sequence id), ending in a newline."""
    if seq is not None:
        body = f"{body} :{seq}"
    return f"${body}*{crc16(body):04X}\n".encode("ascii")


def number_word(value: float | None) -> str:
    """A number as a request word (``-``: no opinion); refuses NaN and infinity."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    return repr(float(value))


def parse_line(line: bytes) -> dict[str, Any]:
    """One reply or event line as a dict; ValueError when it is not a JSON object."""
    value = json.loads(line.decode("utf-8", "replace"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
