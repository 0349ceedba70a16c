"""The project's exception tree.

Everything raised on purpose derives from :class:`V2xError`, and each subclass is also the stdlib
type that fits it, so callers may catch either. Split by phase, like python-can: setup errors
(a backend or device cannot be opened) versus operation errors (a transfer failed at run time).
"""

from __future__ import annotations


class V2xError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(V2xError, ValueError):
    """The configuration is invalid; ``problems`` holds one human line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) if self.problems else "invalid configuration")


class BackendUnavailableError(V2xError, ImportError):
    """A HAL backend cannot be used here: its module is missing or its hardware is absent."""


class HalSetupError(V2xError, OSError):
    """A device or bus could not be opened or did not identify itself at start-up."""


class HalIOError(V2xError, OSError):
    """A transfer on an opened bus failed (I2C NACK, CAN send failure, ...)."""


class SensorFault(HalIOError):
    """A sensor stopped answering after the bounded retries, or answered implausibly."""


class ProtocolError(V2xError, ValueError):
    """A frame or message failed a protocol check (CRC, counter, length, range)."""
