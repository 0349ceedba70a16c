"""The state database holds the event log and latched faults: owner-only, whatever the umask.

Outside systemd (whose StateDirectory= makes /var/lib/v2x-controller 0700) the process umask
decides; with the usual 022 SQLite made the file 0644 in a 0755 directory (issue 15.13).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.store.state_store import StateStore

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_new_database_and_its_directories_are_owner_only(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "var" / "lib" / "v2x" / "state.db"
    store = StateStore(str(db))
    try:
        store.record_event(0.0, 0.0, "test", "written")  # WAL mode: -wal and -shm appear
        store.latch_fault("ESTOP", "test", 0.0)
        files = sorted(db.parent.iterdir())
        assert {p.name for p in files} >= {"state.db", "state.db-wal", "state.db-shm"}
        for path in files:
            assert mode(path) == OWNER_ONLY_FILE, (path.name, oct(mode(path)))
        for directory in (tmp_path / "var", tmp_path / "var" / "lib", db.parent):
            assert mode(directory) == OWNER_ONLY_DIR, (directory, oct(mode(directory)))
    finally:
        store.close()


def test_an_existing_directory_is_left_alone(tmp_path: Path, umask: int) -> None:
    """A shared parent (e.g. /tmp or a home directory) must never be changed."""
    tmp_path.chmod(0o755)
    store = StateStore(str(tmp_path / "state.db"))
    store.close()
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "state.db") == OWNER_ONLY_FILE


def test_an_existing_readable_database_is_tightened_with_a_warning(
        tmp_path: Path, umask: int, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "state.db"
    StateStore(str(db)).close()
    for path in tmp_path.iterdir():
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="controller.store.state_store"):
        store = StateStore(str(db))
    try:
        store.record_event(0.0, 0.0, "test", "written")
        assert mode(db) == OWNER_ONLY_FILE
        assert all(mode(p) == OWNER_ONLY_FILE for p in tmp_path.iterdir())
    finally:
        store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"{db} was open to other users (mode 0644): tightened to 0600" in w
               for w in warnings), warnings


def test_an_owner_only_database_reopens_silently(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "state.db"
    StateStore(str(db)).close()
    with caplog.at_level(logging.WARNING, logger="controller.store.state_store"):
        StateStore(str(db)).close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_memory_store_touches_no_file(tmp_path: Path) -> None:
    before = set(Path.cwd().iterdir())
    StateStore(":memory:").close()
    assert set(Path.cwd().iterdir()) == before
