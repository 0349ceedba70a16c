"""A real mosquitto broker for the gateway's tests, on a free localhost port.

mosquitto comes from the distribution's packages (``.ci/run`` installs it as root when it is
missing); without it the tests that need a broker are skipped with that reason. The broker is
ready when it logs that it is running (its stderr is read; nothing sleeps).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import pytest

SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto", path=SEARCH)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="v2x-mq-")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w", encoding="ascii") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n"
                    "log_type notice\nlog_type information\n")
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-c", self.conf], stderr=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, text=True)
        assert self.process.stderr is not None
        seen = []
        for line in self.process.stderr:  # blocks until mosquitto says it runs (or exits)
            seen.append(line)
            if " running" in line:  # keep reading, so its log never fills the pipe
                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return
        raise RuntimeError("mosquitto did not start: " + "".join(seen[-5:]))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def broker() -> Iterator[Broker]:
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it: apt-get install -y "
                    "mosquitto)")
    server = Broker(binary)
    server.start()
    try:
        yield server
    finally:
        server.close()
