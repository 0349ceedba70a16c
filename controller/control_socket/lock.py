"""Who owns a control socket path: an exclusive ``flock`` on ``PATH.lock`` beside the socket.

Taken before the socket file is looked at (stale check, unlink, bind) and held for the server's
life, so exactly one process owns a path: a second controller started at the same moment can
neither take a socket over that the first has bound but not yet listened on, nor have its own
removed. The kernel drops the lock when its holder dies (kill -9 included); the file itself is
removed by :meth:`SocketLock.release` while still locked, and :func:`acquire` checks that the
file it locked is still the one at the path (a holder that removed it as it went is not raced).
"""

from __future__ import annotations

import fcntl
import os

from hal.errors import HalSetupError

LOCK_SUFFIX = ".lock"
LOCK_MODE = 0o600
ACQUIRE_ATTEMPTS = 8  # a lock file removed under us this often in a row: give up, say why


class SocketBusy(HalSetupError):
    """Another process holds the path's lock: it serves (or is starting to serve) the socket."""


def lock_path(path: str) -> str:
    return path + LOCK_SUFFIX


class SocketLock:
    """The held lock on one socket path (see :func:`acquire`)."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path  # the socket's path; the lock file is lock_path(path)
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file (still locked, so nobody races it) and unlock; idempotent."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if os.stat(lock_path(self.path)).st_ino == os.fstat(fd).st_ino:
                os.unlink(lock_path(self.path))
        except OSError:
            pass  # already gone or unreadable: the unlock below is what matters
        finally:
            os.close(fd)  # closing the only descriptor drops the flock


def acquire(path: str) -> SocketLock:
    """The exclusive lock on ``path`` (a socket path), without waiting.

    Raises :class:`SocketBusy` when another process holds it, HalSetupError when the lock file
    cannot be opened (the directory is missing or not writable)."""
    name = lock_path(path)
    for _ in range(ACQUIRE_ATTEMPTS):
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, LOCK_MODE)
        except OSError as err:
            raise HalSetupError(f"control_socket.path {path}: cannot open its lock file "
                                f"{name}: {err.strerror or err}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SocketBusy(f"control_socket.path {path}: another process (a running "
                             f"controller?) serves it (it holds {name})") from None
        except OSError as err:
            os.close(fd)
            raise HalSetupError(f"control_socket.path {path}: cannot lock {name}: "
                                f"{err.strerror or err}") from err
        try:
            same = os.stat(name).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            _write_pid(fd)
            return SocketLock(path, fd)
        os.close(fd)  # its holder removed it as it released it: lock the new one
    raise HalSetupError(f"control_socket.path {path}: its lock file {name} kept being replaced "
                        f"({ACQUIRE_ATTEMPTS} attempts)")


def _write_pid(fd: int) -> None:
    """Who holds it, for a person looking (the lock itself is the flock, not this text)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass
