"""Owner-only files for the state database, whatever the process umask.

The database holds the event log and the latched faults. Under systemd its directory comes from
``StateDirectory=`` (0700); run by hand, SQLite would create it 0644 in a directory the umask
leaves 0755. So the store creates missing directories 0700 and the database file 0600 itself,
before SQLite opens it; SQLite gives its ``-wal``/``-shm`` files the database file's mode.

An existing database (or side file) that others may read is tightened to 0600 and a warning is
logged; one that cannot be tightened (another owner) is only warned about. Existing directories
are never changed: the parent may be shared (``/tmp``, a home directory).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700
GROUP_OTHER_BITS = 0o077
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")

log = logging.getLogger("controller.store.state_store")


def make_directories(directory: Path) -> None:
    """Create the missing directories of ``directory`` 0700 (mkdir's mode is masked by umask,
    so each is chmod-ed after creation); directories that exist are left as they are."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created meanwhile: not ours to change
            new.mkdir(mode=OWNER_ONLY_DIR)
            os.chmod(new, OWNER_ONLY_DIR)


def _tighten(path: Path) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not current & GROUP_OTHER_BITS:
        return
    try:
        os.chmod(path, OWNER_ONLY_FILE)
    except OSError as err:
        log.warning("%s is open to other users (mode %04o) and cannot be tightened (%s): run "
                    "chmod 600 on it as its owner", path, current, err.strerror or err)
        return
    log.warning("%s was open to other users (mode %04o): tightened to %04o", path, current,
                OWNER_ONLY_FILE)


def prepare_database_file(path: Path) -> None:
    """Make ``path`` exist as an owner-only file (an empty file is an empty SQLite database)."""
    make_directories(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    except FileExistsError:
        for candidate in (path, *(Path(f"{path}{s}") for s in SIDE_FILE_SUFFIXES)):
            _tighten(candidate)
        return
    try:
        os.fchmod(fd, OWNER_ONLY_FILE)  # the umask applies to os.open's mode too
    finally:
        os.close(fd)
