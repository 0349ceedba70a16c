"""``v2xctl faults`` and ``v2xctl log``: read-only views of a real state database.

The database is written by the real store (``StateStore``, ``AuditStore``) of a simulated
charger that latched a real fault; the commands run as separate processes while the writer's
connection stays open and keeps writing, as on a Pi where the controller runs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.cli.main import main
from controller.cli.store_args import BadArgument, parse_since
from controller.modes.states import State
from controller.store.audit_store import AuditStore
from controller.store.reader import StateReader
from controller.store.state_store import StateStore
from tests.harness import Charger

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000.0


def v2xctl(*args: str) -> subprocess.CompletedProcess[str]:
    """v2xctl in its own process (its own SQLite connection), as a technician runs it."""
    return subprocess.run([sys.executable, "-m", "controller.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def latched(tmp_path: Path) -> Iterator[tuple[Charger, Path]]:
    """A simulated charger with a file store, an E-stop latched, and its database path."""
    db = tmp_path / "state.db"
    charger = Charger(store_path=str(db))
    charger.run(1.0)
    charger.world.press_estop()
    charger.run_until(lambda: charger.state is State.ESTOP, 2.0)
    AuditStore(charger.store.connection).record(charger.now, 1_000.0, "/dev/ttyGS0",
                                                "technician", "reset", "refused: loop open")
    charger.store.flush()  # the latch is on disk (the writer thread commits after the tick)
    yield charger, db
    charger.close()


def test_faults_shows_the_latched_estop_while_the_controller_writes(
        latched: tuple[Charger, Path]) -> None:
    charger, db = latched
    before = db.stat().st_mtime_ns, sorted(p.name for p in db.parent.iterdir())
    result = v2xctl("faults", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "ESTOP  ACTIVE" in result.stdout and "check: the E-stop buttons" in result.stdout
    charger.run(0.5)  # the writer carries on while a reader is open elsewhere
    data = json.loads(v2xctl("faults", "--db", str(db), "--json").stdout)
    assert [f["code"] for f in data["faults"]] == ["ESTOP"]
    assert data["faults"][0]["active"] is True and data["faults"][0]["clear_by"] == "operator"
    assert sorted(p.name for p in db.parent.iterdir()) == before[1]  # no file created


def test_faults_follow_a_reset_and_all_shows_the_cleared_one(
        latched: tuple[Charger, Path]) -> None:
    charger, db = latched
    charger.world.release_estop()
    charger.run(1.0)
    charger.sup.request_reset()
    charger.run(0.5)
    assert charger.state is not State.ESTOP
    assert v2xctl("faults", "--db", str(db)).stdout.strip() == "no latched faults"
    cleared = json.loads(v2xctl("faults", "--db", str(db), "--all", "--json").stdout)
    assert [f["code"] for f in cleared["faults"]] == ["ESTOP"]
    assert cleared["faults"][0]["active"] is False and cleared["faults"][0]["cleared_at"]


def test_log_shows_events_and_the_console_audit(latched: tuple[Charger, Path]) -> None:
    _, db = latched
    result = v2xctl("log", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "ESTOP" in result.stdout
    assert "console   /dev/ttyGS0 technician: reset -> refused: loop open" in result.stdout
    data = json.loads(v2xctl("log", "--db", str(db), "--json", "--only", "audit").stdout)
    assert data["events"] == [] and [a["command"] for a in data["audit"]] == ["reset"]
    newest = json.loads(v2xctl("log", "--db", str(db), "--json", "--since", "@5000").stdout)
    assert newest["audit"] == [] and newest["events"]  # the audit row is dated 1000 s


def test_the_config_names_the_database(latched: tuple[Charger, Path], tmp_path: Path) -> None:
    _, db = latched
    config = tmp_path / "config.toml"
    config.write_text(f'[hal]\nbackend = "sim"\n[store]\npath = "{db}"\n', encoding="utf-8")
    assert "ESTOP" in v2xctl("faults", "--config", str(config)).stdout
    config.write_text('[hal]\nbackend = "sim"\n', encoding="utf-8")
    result = v2xctl("faults", "--config", str(config))
    assert result.returncode == 2 and "keeps no state database" in result.stderr


@pytest.mark.parametrize("since", ["nan", "inf", "-inf", "garbage", "", "1e999", "-5m",
                                   "@nan", "9" * 400 + "d", "2026-13-45", "nanm"])
def test_hostile_since_is_refused_with_one_line(latched: tuple[Charger, Path], since: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, db = latched
    for verb in ("faults", "log"):
        assert main([verb, "--db", str(db), f"--since={since}"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "--since" in err


def test_since_forms() -> None:
    assert parse_since("15m", NOW) == NOW - 900.0
    assert parse_since("2h", NOW) == NOW - 7200.0
    assert parse_since("@1780000000", NOW) == NOW
    assert parse_since("2026-05-28T20:26:40+00:00", NOW) == 1_780_000_000.0
    with pytest.raises(BadArgument):
        parse_since("NaN", NOW)


def test_missing_or_foreign_database_is_a_clear_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.db"
    assert main(["faults", "--db", str(missing)]) == 2
    assert "no state database at" in capsys.readouterr().err
    assert not missing.exists()  # mode=ro never creates it
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert main(["log", "--db", str(other)]) == 2
    assert "not a v2x-controller state database" in capsys.readouterr().err
    assert main(["log", "--db", str(other), "--limit", "0"]) == 2


def test_the_reader_cannot_write(latched: tuple[Charger, Path]) -> None:
    _, db = latched
    with StateReader(str(db)) as reader:
        assert [f.code for f in reader.faults()] == ["ESTOP"]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._db.execute("DELETE FROM latched_faults")


WRITER = """
import sys
from controller.store.state_store import StateStore
store = StateStore(sys.argv[1])
for i in range(int(sys.argv[2])):
    store.record_event(float(i), 1000.0 + i, "test", f"event {i}")
    if i % 50 == 0:
        store.latch_fault("DOOR_OPEN", f"door {i}", 1000.0 + i)
store.close()
"""
WRITES = 500


def test_reads_while_another_process_writes(latched: tuple[Charger, Path]) -> None:
    """A writer process appends through the real store as fast as it can; every read in the
    meantime succeeds and sees a prefix that only grows."""
    _, db = latched
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(WRITES)], cwd=ROOT)
    counts: list[int] = []
    try:
        while writer.poll() is None or len(counts) < 3:
            with StateReader(str(db)) as reader:
                events = [e for e in reader.events() if e.kind == "test"]
                faults = [f for f in reader.faults() if f.code == "DOOR_OPEN"]
            assert [e.text for e in events] == [f"event {i}" for i in range(len(events))]
            assert len(faults) >= (len(events) + 48) // 50  # each latched before the next event
            counts.append(len(events))
    finally:
        assert writer.wait(timeout=120) == 0
    assert counts == sorted(counts) and counts[-1] == WRITES
    print(f"{len(counts)} reads while {WRITES} events were written")


def test_a_reader_without_access_is_told_to_use_sudo(latched: tuple[Charger, Path]) -> None:
    """The state directory is the service user's (750): anyone else gets one clear line."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as another user")
    _, db = latched
    db.parent.chmod(0o700)
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
         "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
         "from controller.cli.main import main; sys.exit(main(sys.argv[1:]))",
         "faults", "--db", str(db)],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "Permission denied" in result.stderr and "sudo v2xctl" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_damaged_rows_still_give_valid_json_and_text(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Infinite or absurd times in a damaged database: shown without a date, JSON stays JSON."""
    db = tmp_path / "state.db"
    store = StateStore(str(db))
    store.record_event(math.inf, 1e300, "test", "far future")
    store.record_event(1.0, -math.inf, "test", "far past")
    store.latch_fault("ESTOP", "odd time", math.inf)
    AuditStore(store.connection).record(-math.inf, math.inf, "/dev/ttyGS0", "viewer", "x", "y")
    for verb in ("faults", "log"):
        assert main([verb, "--db", str(db), "--json"]) == 0
        assert _strict(capsys.readouterr().out)
        assert main([verb, "--db", str(db)]) == 0
        assert capsys.readouterr().out
    store.close()
