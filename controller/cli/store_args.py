"""Options shared by ``v2xctl faults`` and ``v2xctl log``: which database, since when, as what.

The database is the config's ``store.path`` (read from the raw TOML, so a config that no longer
validates still leads to its faults) or ``--db``. ``--since`` takes an ISO 8601 date or time
(local time unless it names an offset), a relative age (``90s``, ``15m``, ``2h``, ``7d``) or
``@EPOCH`` seconds; anything else, NaN and infinities included, is refused with one line.
"""

from __future__ import annotations

import argparse
import math
import re
from datetime import datetime
from typing import Any

from controller.config.loader import read_toml_file
from controller.store.reader import StateReader, StoreReadError
from hal.errors import ConfigError

DEFAULT_CONFIG = "/etc/v2x-controller/config.toml"
MEMORY = ":memory:"
UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
EPOCH = re.compile(r"@(\d+(?:\.\d+)?)")
SINCE_FORMS = "an ISO date or time (2026-12-03, 2026-12-03T08:00), an age (90s, 15m, 2h, 7d) " \
              "or @EPOCH seconds"


class BadArgument(ValueError):
    """A command-line value that cannot be used (the message names it and what is allowed)."""


def add_store_options(parser: Any) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="FILE", default=None,
                        help=f"config whose store.path is read (default {DEFAULT_CONFIG})")
    source.add_argument("--db", metavar="PATH", default=None,
                        help="the state database itself (overrides the config)")
    parser.add_argument("--since", metavar="WHEN", default=None,
                        help=f"only records from WHEN on: {SINCE_FORMS}")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def parse_since(text: str, now: float) -> float:
    """``--since`` as epoch seconds (finite), relative ages counted back from ``now``."""
    value = text.strip()
    relative = RELATIVE.fullmatch(value)
    epoch = EPOCH.fullmatch(value)
    if relative:
        result = now - float(relative.group(1)) * UNIT_S[relative.group(2)]
    elif epoch:
        result = float(epoch.group(1))
    else:
        try:
            result = datetime.fromisoformat(value).timestamp()
        except (ValueError, OverflowError, OSError):
            raise BadArgument(f"--since {text[:40]!r}: expected {SINCE_FORMS}") from None
    if not math.isfinite(result):
        raise BadArgument(f"--since {text[:40]!r}: out of range")
    return result


def database_path(args: argparse.Namespace) -> str:
    """The database to read: ``--db``, or ``store.path`` of ``--config`` (or the default)."""
    if args.db is not None:
        return str(args.db)
    config = args.config or DEFAULT_CONFIG
    try:
        data = read_toml_file(config)
    except ConfigError as err:
        raise BadArgument("; ".join(err.problems) + " (name the database with --db PATH)") \
            from None
    store = data.get("store", {})
    path = store.get("path", MEMORY) if isinstance(store, dict) else MEMORY
    if not isinstance(path, str) or path == MEMORY:
        raise BadArgument(f"{config}: store.path is {path!r}: this config keeps no state "
                          "database")
    return path


def open_reader(args: argparse.Namespace, now: float) -> tuple[StateReader, float | None]:
    """The reader and the ``--since`` bound; BadArgument or StoreReadError on bad input."""
    since = None if args.since is None else parse_since(args.since, now)
    return StateReader(database_path(args)), since


def iso(wall_time: float | None) -> str | None:
    """Local ISO time with offset, to the second (None, or None for a time no date can show)."""
    if wall_time is None or not math.isfinite(wall_time):
        return None
    try:
        return datetime.fromtimestamp(wall_time).astimezone().isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None


def finite(value: float | None) -> float | None:
    """A number JSON can carry: NaN and infinities (a damaged row) become None."""
    return value if value is not None and math.isfinite(value) else None


__all__ = ["BadArgument", "StoreReadError", "add_store_options", "database_path", "finite",
           "iso", "open_reader", "parse_since"]
