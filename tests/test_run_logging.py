"""Logging for journald and an SD card: priorities, no doubled timestamps, a paced status line.

The journal is recognised as systemd tells a unit: ``JOURNAL_STREAM=<device>:<inode>`` of the
stream stdout/stderr are connected to. The tests hand the child a file and name that file's
device and inode, which is exactly what the controller checks.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from controller.cli.logging_setup import JournalFormatter, syslog_priority
from controller.cli.run_output import is_journal, paced_like_the_journal
from controller.store.audit_store import AuditStore
from controller.supervisor.event_levels import NOTICE
from harness import Charger

V2XCTL = [sys.executable, "-m", "controller.cli.main"]
SYSTEMD_VARS = ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET", "WATCHDOG_USEC")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
PRIORITY = re.compile(r"^<([0-7])>")
RUN_CONFIG = """\
[hal]
backend = "sim"
[sequence]
startup_request = "charge"
[safety.loop]
max_tick_s = 5.0
[control_socket]
path = "{socket}"
"""


def run_into(path: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    """``v2xctl run ARGS`` with stdout and stderr both on ``path`` (as systemd does), on the
    simulator with the built-in charge request (``RUN_CONFIG``).

    Two things of the machine's, not of the logging, are kept out: the control tick's limit
    (``LOOP_OVERRUN`` times a tick's work on the real clock, so a machine busy with other work
    can trip the run, which then stops from ``fault`` without ramping and prints no stop status
    line; tests/test_loop_timing.py tests that limit) and the control socket's default path,
    shared by every simulator of this user (two started at the same moment both take it and
    one exits 2): the child's is in a temporary directory of its own (short: an AF_UNIX path
    has at most 107 bytes)."""
    base = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS}
    with path.open("w") as sink, tempfile.TemporaryDirectory(prefix="v2x-run-") as own:
        config = Path(own) / "run.toml"
        config.write_text(RUN_CONFIG.format(socket=Path(own) / "control.sock"))
        info = os.fstat(sink.fileno())
        journal = env.pop("JOURNAL_STREAM", None)
        if journal == "this file":
            env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
        result = subprocess.run([*V2XCTL, "run", "--config", str(config), *args], stdout=sink,
                                stderr=sink, env={**base, **env}, timeout=120, check=False)
    return result.returncode, path.read_text().splitlines()


def test_on_the_journal_lines_carry_priorities_and_no_timestamps(tmp_path: Path) -> None:
    code, lines = run_into(tmp_path / "journal", "--duration", "30", "--speed", "30",
                           JOURNAL_STREAM="this file")
    assert code == 0, lines
    logged = [line for line in lines if PRIORITY.match(line)]
    assert logged, lines
    assert not any(TIMESTAMP.search(line) for line in lines), lines  # journald stamps them
    states = [line for line in logged if "state: " in line]
    assert states and all(line.startswith("<5>") for line in states), states  # notice
    # The status line: at status_log_interval_s (600 s), not once a second; and the stop.
    status = [line for line in lines if line.startswith("t=")]
    assert len(status) == 2 and "stopping (ramp-down)" in status[1], status
    assert lines[-1].endswith("safe shutdown: power ramped to zero, contactors open, "
                              "inverter off")


def test_a_terminal_or_file_outside_systemd_keeps_timestamps_and_the_1_s_status(
        tmp_path: Path) -> None:
    code, lines = run_into(tmp_path / "file", "--duration", "30", "--speed", "30")
    assert code == 0, lines
    assert not any(PRIORITY.match(line) for line in lines)
    assert any(TIMESTAMP.match(line) and " NOTICE state: " in line for line in lines), lines
    assert len([line for line in lines if line.startswith("t=")]) >= 29


def test_a_stale_journal_stream_is_not_the_journal(tmp_path: Path) -> None:
    """A child of a unit inherits JOURNAL_STREAM with its output redirected elsewhere."""
    code, lines = run_into(tmp_path / "file", "--duration", "5", "--speed", "30",
                           JOURNAL_STREAM="1:2")
    assert code == 0, lines
    assert not any(PRIORITY.match(line) for line in lines)
    assert len([line for line in lines if line.startswith("t=")]) >= 4


def test_a_units_output_file_is_paced_like_the_journal(tmp_path: Path) -> None:
    with (tmp_path / "out").open("w") as regular:
        assert not paced_like_the_journal(regular, {})
        assert paced_like_the_journal(regular, {"INVOCATION_ID": "0123abcd"})
        assert not is_journal(regular, {"INVOCATION_ID": "0123abcd"})
        info = os.fstat(regular.fileno())
        assert is_journal(regular, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
        assert not is_journal(regular, {"JOURNAL_STREAM": "garbage"})
    read, write = os.pipe()
    with os.fdopen(write, "w") as pipe:  # a CI runner under systemd captures through pipes
        assert not paced_like_the_journal(pipe, {"INVOCATION_ID": "0123abcd"})
    os.close(read)


def test_priority_on_every_line_of_a_multi_line_record() -> None:
    record = logging.LogRecord("v2x", logging.ERROR, __file__, 1, "first\nsecond", None, None)
    assert JournalFormatter("%(message)s").format(record) == "<3>first\n<3>second"
    assert [syslog_priority(level) for level in
            (logging.CRITICAL, logging.ERROR, logging.WARNING, NOTICE, logging.INFO,
             logging.DEBUG)] == [2, 3, 4, 5, 6, 7]


def test_trips_state_changes_and_claims_are_logged_at_their_level(
        charger: Charger, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    charger.request("charge")
    charger.run(3.0)
    charger.world.press_estop()
    charger.run(1.0)
    levels = {(r.levelno, str(r.args[0]) if r.args else "") for r in caplog.records
              if r.name == "v2x.supervisor"}
    assert (logging.ERROR, "trip") in levels
    assert (NOTICE, "state") in levels
    assert (NOTICE, "request") in levels  # the user's claim


def test_console_logins_and_lock_outs_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    audit = AuditStore(sqlite3.connect(":memory:"))
    audit.record(1.0, 2.0, "/dev/ttyGS0", "viewer", "login", "ok")
    audit.record(1.0, 2.0, "/dev/ttyGS0", "viewer", "login",
                 "wrong PIN; locked out for 30 s")
    got = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert got == [
        (logging.INFO, "console login on /dev/ttyGS0 as viewer: ok"),
        (logging.WARNING, "console login on /dev/ttyGS0 as viewer: wrong PIN; locked out for 30 s"),
    ]
