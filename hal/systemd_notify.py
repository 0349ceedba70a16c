"""A tiny sd_notify(3) client and the loop watchdog policy that uses it; no dependency.

systemd passes a service started with ``Type=notify`` the path of a datagram socket in
``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's abstract namespace) and, with ``WatchdogSec=``,
the watchdog interval in ``$WATCHDOG_USEC`` (for the process in ``$WATCHDOG_PID`` when set). Each
notification is one datagram of ``KEY=value`` lines. Without ``$NOTIFY_SOCKET`` every call is a
no-op, so the same code runs from a shell, in tests and under systemd.

Sending never blocks and never raises: the control loop must not stall on its supervisor. A
datagram the kernel cannot queue is dropped and logged (once until a send succeeds again).

:class:`LoopWatchdog` is the policy: ``READY=1`` after the first healthy tick, then ``WATCHDOG=1``
at half the interval, and only while the loop is healthy (the caller says whether the tick was
healthy; the watchdog also withholds the ping when the time between two ticks reached half the
interval, i.e. the loop is too slow to be trusted).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Final

log = logging.getLogger("v2x.systemd")

NOTIFY_SOCKET_ENV: Final = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV: Final = "WATCHDOG_USEC"
WATCHDOG_PID_ENV: Final = "WATCHDOG_PID"
USEC_PER_S: Final = 1_000_000
ABSTRACT_PREFIX: Final = "@"


def socket_address(value: str) -> str | None:
    """The AF_UNIX address for a ``$NOTIFY_SOCKET`` value, or None when it is not one we serve.

    An absolute path is used as is; ``@name`` is the abstract-namespace name ``\\0name``. Other
    forms (``vsock:...``, relative paths) are not for us.
    """
    if value.startswith(ABSTRACT_PREFIX) and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class SystemdNotifier:
    """Sends ``KEY=value`` notifications to ``$NOTIFY_SOCKET``; a no-op when it is unset."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get(NOTIFY_SOCKET_ENV, "")
        self._address = socket_address(raw) if raw else None
        if raw and self._address is None:
            log.warning("%s=%r is not a path or @abstract name: notifications disabled",
                        NOTIFY_SOCKET_ENV, raw)
        self._watchdog_s = _watchdog_interval(env)
        self._socket: socket.socket | None = None
        self._failing = False

    @property
    def enabled(self) -> bool:
        """True when notifications go somewhere (``$NOTIFY_SOCKET`` was set and usable)."""
        return self._address is not None

    def watchdog_interval_s(self) -> float | None:
        """systemd's watchdog interval for this process (``$WATCHDOG_USEC``), or None."""
        return self._watchdog_s

    def notify(self, *assignments: str) -> bool:
        """Send one datagram of ``KEY=value`` lines; True when it was handed to the kernel."""
        if self._address is None or not assignments:
            return False
        payload = "\n".join(assignments).encode("utf-8", "replace")
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(payload, self._address)
        except OSError as err:
            if not self._failing:
                log.warning("sd_notify to %s failed (%s); dropping notifications until it "
                            "works again", self._address.replace("\0", "@"), err)
            self._failing = True
            return False
        if self._failing:
            log.info("sd_notify works again")
            self._failing = False
        return True

    def ready(self) -> bool:
        """``READY=1``: start-up is complete (systemd then considers the unit started)."""
        return self.notify("READY=1")

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: the keep-alive ping."""
        return self.notify("WATCHDOG=1")

    def stopping(self, text: str | None = None) -> bool:
        """``STOPPING=1`` (with an optional status text in the same datagram)."""
        fields = ["STOPPING=1"]
        if text:
            fields.append(_status_field(text))
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        """``STATUS=text``: one line shown by ``systemctl status``."""
        return self.notify(_status_field(text))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _status_field(text: str) -> str:
    return "STATUS=" + " ".join(text.split())  # one line: a newline would start a new field


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    raw = env.get(WATCHDOG_USEC_ENV)
    if not raw:
        return None
    pid = env.get(WATCHDOG_PID_ENV)
    if pid and pid.strip() != str(os.getpid()):
        return None  # the watchdog is meant for another process (e.g. our parent)
    try:
        usec = int(raw)
    except ValueError:
        log.warning("%s=%r is not an integer: watchdog disabled", WATCHDOG_USEC_ENV, raw)
        return None
    return usec / USEC_PER_S if usec > 0 else None


class LoopWatchdog:
    """``READY=1`` after the first healthy tick, ``WATCHDOG=1`` every interval / 2 while healthy.

    Call :meth:`on_tick` once after every control tick with whether the tick was healthy. The
    ping is withheld when the tick was not healthy, or when the time since the previous call
    (``now``, a monotonic wall clock) reached half the watchdog interval: a loop that slow is
    not keeping its promise, and systemd should find out.
    """

    def __init__(self, notifier: SystemdNotifier,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._notifier = notifier
        self._now = now
        interval = notifier.watchdog_interval_s()
        self.pet_every_s = None if interval is None else interval / 2.0
        self.ready_sent = False
        self.pings = 0
        self.withheld = 0
        self._last_tick: float | None = None
        self._last_ping: float | None = None
        self._starving = False
        self.last_gap_s: float | None = None  # time between the last two ticks
        self.longest_gap_s = 0.0  # the longest ever seen (tick duration tracking)

    def on_tick(self, healthy: bool) -> None:
        now = self._now()
        gap = None if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        if gap is not None:
            self.last_gap_s = gap
            self.longest_gap_s = max(self.longest_gap_s, gap)
        if not healthy:
            self._withhold("the tick failed")
            return
        if not self.ready_sent:
            self.ready_sent = self._notifier.ready()
            if not self._notifier.enabled:
                self.ready_sent = True  # nobody listens: stop trying
        if self.pet_every_s is None:
            return
        if gap is not None and gap >= self.pet_every_s:
            self._withhold(f"{gap:.3f} s between ticks (limit {self.pet_every_s:.3f} s)")
            return
        if self._starving:
            log.info("loop healthy again: watchdog pings resume")
            self._starving = False
        if self._last_ping is None or now - self._last_ping >= self.pet_every_s:
            self._notifier.watchdog()
            self._last_ping = now
            self.pings += 1

    def _withhold(self, why: str) -> None:
        self.withheld += 1
        if self.pet_every_s is not None and not self._starving:
            log.warning("watchdog ping withheld: %s", why)
        self._starving = True
