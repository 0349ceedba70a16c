"""systemd notify and watchdog: the sd_notify client on a real datagram socket, and `v2xctl run`
telling systemd it is ready, alive (only while its loop is healthy), what it is doing, and that it
is stopping."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.systemd_notify import LoopWatchdog, SystemdNotifier, socket_address

V2XCTL = [sys.executable, "-m", "controller.cli.main"]


class Receiver:
    """The systemd side: a bound AF_UNIX datagram socket drained by a thread.

    Drained continuously because Linux queues only ``net.unix.max_dgram_qlen`` datagrams (10 by
    default outside systemd) before a non-blocking sender's datagrams are dropped.
    """

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.05)
        self.datagrams: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                self.datagrams.append(self.sock.recv(65536).decode())
            except TimeoutError:
                if self._done.is_set():
                    return

    def close(self) -> list[str]:
        """Stop after the queue is empty; the datagrams in arrival order."""
        self._done.set()
        self._thread.join(timeout=10)
        self.sock.close()
        return self.datagrams


@pytest.fixture
def notify_path() -> Iterator[str]:
    # A short directory of our own: AF_UNIX paths are limited to 107 bytes.
    with tempfile.TemporaryDirectory(prefix="v2x-sd-") as directory:
        yield str(Path(directory) / "notify.sock")


def test_without_notify_socket_every_call_is_a_quiet_no_op(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    assert notifier.watchdog_interval_s() is None
    assert [notifier.ready(), notifier.watchdog(), notifier.status("x"),
            notifier.stopping()] == [False] * 4
    liveness = LoopWatchdog(notifier)
    liveness.on_tick(healthy=True)
    assert liveness.ready_sent and liveness.pings == 0
    notifier.close()


def test_notifications_arrive_as_datagrams_on_notify_socket(
        monkeypatch: pytest.MonkeyPatch, notify_path: str) -> None:
    receiver = Receiver(notify_path)
    monkeypatch.setenv("NOTIFY_SOCKET", notify_path)
    notifier = SystemdNotifier()
    assert notifier.enabled
    assert notifier.ready()
    assert notifier.status("charging\nat 7 kW")
    assert notifier.watchdog()
    assert notifier.stopping("ramping down")
    notifier.close()
    assert receiver.close() == ["READY=1", "STATUS=charging at 7 kW", "WATCHDOG=1",
                                "STOPPING=1\nSTATUS=ramping down"]


def test_abstract_namespace_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"v2x-test-{uuid.uuid4().hex}"
    assert socket_address(f"@{name}") == f"\0{name}"
    receiver = Receiver(f"\0{name}")
    monkeypatch.setenv("NOTIFY_SOCKET", f"@{name}")
    notifier = SystemdNotifier()
    assert notifier.ready()
    notifier.close()
    assert receiver.close() == ["READY=1"]


def test_unreachable_socket_never_raises(monkeypatch: pytest.MonkeyPatch,
                                        notify_path: str) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_path)  # nobody bound it
    notifier = SystemdNotifier()
    assert notifier.enabled
    assert not notifier.ready()
    assert not notifier.watchdog()
    notifier.close()


def test_relative_or_vsock_addresses_are_not_used() -> None:
    assert socket_address("relative/path") is None
    assert socket_address("vsock:2:1234") is None
    assert not SystemdNotifier({"NOTIFY_SOCKET": "relative/path"}).enabled


@pytest.mark.parametrize(("env", "expected"), [
    ({"WATCHDOG_USEC": "2000000"}, 2.0),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 2.0),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval_from_the_environment(env: dict[str, str],
                                                expected: float | None) -> None:
    assert SystemdNotifier(env).watchdog_interval_s() == expected


def test_loop_watchdog_pings_only_a_healthy_timely_loop(notify_path: str) -> None:
    receiver = Receiver(notify_path)
    notifier = SystemdNotifier({"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "1000000"})
    t = [0.0]
    liveness = LoopWatchdog(notifier, now=lambda: t[0])

    def tick(dt: float, healthy: bool = True) -> None:
        t[0] += dt
        liveness.on_tick(healthy)

    tick(0.0, healthy=False)  # the first tick failed: not ready yet
    assert not liveness.ready_sent
    tick(0.125)  # READY=1 and the first ping
    for _ in range(8):  # 1 s of 0.125 s ticks: a ping every 0.5 s
        tick(0.125)
    pings_when_healthy = liveness.pings
    tick(0.125, healthy=False)
    tick(0.625)  # 0.625 s between ticks: over interval / 2, withheld
    tick(0.125, healthy=False)
    assert liveness.pings == pings_when_healthy
    tick(0.125)  # healthy and timely again: pings resume
    notifier.close()
    datagrams = receiver.close()
    assert datagrams[0] == "READY=1"
    assert datagrams.count("READY=1") == 1
    assert pings_when_healthy == 3  # at 0.125, 0.625 and 1.125 s
    assert datagrams.count("WATCHDOG=1") == pings_when_healthy + 1
    assert liveness.withheld == 4


def test_v2xctl_run_notifies_systemd(notify_path: str) -> None:
    receiver = Receiver(notify_path)
    try:
        result = subprocess.run(
            [*V2XCTL, "run", "--duration", "5", "--speed", "5"], capture_output=True,
            text=True, timeout=120, check=False,
            env={**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "100000"})
    finally:
        datagrams = receiver.close()
    assert result.returncode == 0, result.stderr
    assert datagrams[0] == "READY=1"
    assert datagrams.count("READY=1") == 1
    assert datagrams.count("WATCHDOG=1") >= 3
    status = [d for d in datagrams if d.startswith("STATUS=t=")]
    printed = [line for line in result.stdout.splitlines() if line.startswith("t=")
               and "stopping (ramp-down)" not in line]  # no STATUS= after STOPPING=1
    assert len(status) == len(printed) >= 2  # one STATUS= per status line
    assert any("energised_charge" in d for d in status)
    assert datagrams[-1].startswith("STOPPING=1")
    assert datagrams.count("WATCHDOG=1") == datagrams[:-1].count("WATCHDOG=1")


def test_v2xctl_run_without_notify_socket_is_unchanged() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    result = subprocess.run([*V2XCTL, "run", "--duration", "1", "--speed", "10"],
                            capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert "sd_notify" not in result.stderr
    assert result.stdout.rstrip().endswith(
        "safe shutdown: power ramped to zero, contactors open, inverter off")
