"""Who owns a control socket path (controller/control_socket/lock.py), with real processes.

Two controllers started at the same moment must never both believe they serve one path: the
first takes ``PATH.lock`` (flock) before it looks at, removes or binds the socket file, and
holds it until it closes. The timeouts below only stop a broken test from hanging; no assertion
depends on the wall clock.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from controller.control_socket.lock import SocketBusy, acquire, lock_path
from controller.control_socket.serve import claim_simulator_socket
from controller.control_socket.server import ControlSocketServer, bind_socket
from controller.control_socket.settings import ControlSocketSettings
from hal.errors import HalSetupError
from harness import Charger

WAIT_S = 30.0  # a safety net against a hang, never a measurement
PROCESSES = 4
ROUNDS = 5
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="v2x-lk-"))  # short: AF_UNIX paths are <= 107 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _answer_once(sock: socket.socket) -> None:
    """Say who serves this socket to the one connection the test makes."""
    sock.setblocking(True)
    sock.settimeout(WAIT_S)
    conn, _ = sock.accept()
    conn.sendall(f"{os.getpid()}\n".encode())
    conn.close()


def _who_serves(path: str) -> int:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(WAIT_S)
    client.connect(path)
    data = b""
    while not data.endswith(b"\n"):
        chunk = client.recv(64)
        if not chunk:
            break
        data += chunk
    client.close()
    return int(data)


def _simulator_start(base: str, barrier: Barrier, results: Any, done: Event) -> None:
    """One built-in simulator's start-up: choose the path, bind it, serve one connection."""
    barrier.wait(WAIT_S)
    try:
        lock = claim_simulator_socket(base)
        sock, lock = bind_socket(ControlSocketSettings(path=lock.path), lock)
    except HalSetupError as err:
        results.put((os.getpid(), "", str(err)))
        return
    results.put((os.getpid(), lock.path, ""))
    _answer_once(sock)
    done.wait(WAIT_S)
    sock.close()
    lock.release()


def _bind_start(path: str, barrier: Barrier, results: Any, done: Event) -> None:
    """One controller with a configured path: bind it or say why not."""
    barrier.wait(WAIT_S)
    try:
        sock, lock = bind_socket(ControlSocketSettings(path=path))
    except HalSetupError as err:
        results.put((os.getpid(), "", str(err)))
        return
    results.put((os.getpid(), path, ""))
    _answer_once(sock)
    done.wait(WAIT_S)
    sock.close()
    lock.release()


def _race(target: Callable[..., None], arg: str) -> list[tuple[int, str, str]]:
    """PROCESSES starts released at once; each one that serves is asked who it is."""
    barrier, done, results = FORK.Barrier(PROCESSES), FORK.Event(), FORK.Queue()
    procs = [FORK.Process(target=target, args=(arg, barrier, results, done))
             for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    try:
        got = [results.get(timeout=WAIT_S) for _ in procs]
        for pid, path, _ in got:
            if path:
                assert _who_serves(path) == pid, f"{path} is not served by {pid}, which bound it"
    finally:
        done.set()
        for proc in procs:
            proc.join(WAIT_S)
            if proc.is_alive():
                proc.kill()
    return got


def test_simulators_started_at_once_each_serve_their_own_reachable_socket(
        socket_dir: Path) -> None:
    base = str(socket_dir)
    for _ in range(ROUNDS):
        got = _race(_simulator_start, base)
        errors = [e for _, _, e in got if e]
        assert not errors, errors
        paths = sorted(p for _, p, _ in got)
        assert len(set(paths)) == PROCESSES  # nobody shares (or lost) a socket
        assert sum(p == os.path.join(base, "control.sock") for p in paths) == 1
        for pid, path, _ in got:
            if path != os.path.join(base, "control.sock"):
                assert path == os.path.join(base, f"control-{pid}.sock")
        assert not [n for n in os.listdir(base) if n.endswith(".lock")], "released on close"
        # the socket files stay (bind_socket's caller removes them): the next round's stale ones


def test_controllers_started_at_once_on_one_path_exactly_one_serves_it(
        socket_dir: Path) -> None:
    path = str(socket_dir / "control.sock")
    for _ in range(ROUNDS):
        got = _race(_bind_start, path)
        winners = [pid for pid, p, _ in got if p]
        assert len(winners) == 1, got
        for _, p, error in got:
            if not p:
                assert error == (f"control_socket.path {path}: another process (a running "
                                 f"controller?) serves it (it holds {path}.lock)")


def test_a_socket_bound_but_not_yet_listening_is_never_taken_over(
        socket_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window the race lived in, made certain: the first start pauses right after its
    bind (before listen); a second start then must refuse, not replace the file."""
    settings = ControlSocketSettings(path=str(socket_dir / "control.sock"))
    bound, go_on = threading.Event(), threading.Event()
    real_chmod = os.chmod

    def chmod_then_pause(target: Any, mode: int, *args: Any, **kwargs: Any) -> None:
        real_chmod(target, mode, *args, **kwargs)
        if target == settings.path and threading.current_thread().name == "first":
            bound.set()
            go_on.wait(WAIT_S)

    monkeypatch.setattr(os, "chmod", chmod_then_pause)
    first: list[Any] = []
    thread = threading.Thread(target=lambda: first.append(bind_socket(settings)), name="first")
    thread.start()
    try:
        assert bound.wait(WAIT_S)
        with pytest.raises(HalSetupError, match="another process"):
            bind_socket(settings)
    finally:
        go_on.set()
        thread.join(WAIT_S)
    sock, lock = first[0]
    served = threading.Thread(target=_answer_once, args=(sock,))
    served.start()
    assert _who_serves(settings.path) == os.getpid()  # the first one's socket is reachable
    served.join(WAIT_S)
    sock.close()
    lock.release()


def _hold_and_wait(path: str, ready: Event) -> None:
    bind_socket(ControlSocketSettings(path=path))
    ready.set()
    signal.pause()  # until killed


def test_a_controller_killed_with_9_leaves_files_the_next_start_replaces(
        socket_dir: Path) -> None:
    path = str(socket_dir / "control.sock")
    ready = FORK.Event()
    proc = FORK.Process(target=_hold_and_wait, args=(path, ready))
    proc.start()
    try:
        assert ready.wait(WAIT_S)
        with pytest.raises(SocketBusy):
            bind_socket(ControlSocketSettings(path=path))
    finally:
        os.kill(proc.pid or 0, signal.SIGKILL)
        proc.join(WAIT_S)
    assert stat.S_ISSOCK(os.lstat(path).st_mode) and os.path.exists(lock_path(path))  # stale
    sock, lock = bind_socket(ControlSocketSettings(path=path))
    served = threading.Thread(target=_answer_once, args=(sock,))
    served.start()
    assert _who_serves(path) == os.getpid()
    served.join(WAIT_S)
    sock.close()
    lock.release()


def test_the_lock_is_0600_held_while_serving_and_released_on_close(
        make_charger: Callable[..., Charger], socket_dir: Path) -> None:
    path = str(socket_dir / "control.sock")
    charger = make_charger({"control_socket": {"path": path}})
    server = ControlSocketServer(charger.sup)
    assert stat.S_IMODE(os.stat(lock_path(path)).st_mode) == 0o600
    assert Path(lock_path(path)).read_text() == f"{os.getpid()}\n"
    with pytest.raises(SocketBusy, match=r"another process .* serves it \(it holds "):
        acquire(path)  # another descriptor, as another process would have
    server.close()
    assert not os.path.exists(path) and not os.path.exists(lock_path(path))
    acquire(path).release()  # free again


def test_a_failed_start_releases_the_lock(socket_dir: Path) -> None:
    path = socket_dir / "control.sock"
    path.write_text("keep me")
    with pytest.raises(HalSetupError, match="exists and is not a socket"):
        bind_socket(ControlSocketSettings(path=str(path)))
    assert path.read_text() == "keep me"
    acquire(str(path)).release()  # nobody holds it


def test_a_missing_directory_is_a_clear_error(socket_dir: Path) -> None:
    path = str(socket_dir / "gone" / "control.sock")
    with pytest.raises(HalSetupError, match=r"cannot open its lock file .*control\.sock\.lock: "
                                            "No such file or directory"):
        bind_socket(ControlSocketSettings(path=path))
