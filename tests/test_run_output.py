"""``v2xctl run`` output as users pipe it: closed pipes, Ctrl-C on a pipeline, honest reports.

Real processes, real pipes, real signals (the simulator runs ``--speed`` times faster than real
time; nothing here sleeps or reads the wall clock: every wait is a blocking read or ``wait``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from controller.cli.run_output import GuardedCallback
from controller.modes.states import State
from harness import Charger

V2XCTL = [sys.executable, "-m", "controller.cli.main"]
# Strip what would make the child think it runs under systemd (the CI may itself be a service).
SYSTEMD_VARS = ("JOURNAL_STREAM", "INVOCATION_ID", "NOTIFY_SOCKET", "WATCHDOG_USEC")
FAST = ["--speed", "20"]
LONG = ["--duration", "3600"]  # never reached: each test ends the run itself (or times out)
TIMEOUT_S = 90
RAMPED = "energised_charge -> stopping_ramp"
OPENED = "stopping_ramp -> stopping_open"
SAFE = "safe shutdown: power ramped to zero, contactors open, inverter off"


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS}
    return {**env, **extra}


def read_until_charging(stream: IO[str]) -> list[str]:
    """Block on the child's output until a status line shows it charging."""
    seen = []
    for line in stream:
        seen.append(line)
        if line.startswith("t=") and "energised_charge" in line:
            return seen
    raise AssertionError(f"the run ended before charging: {seen}")


def as_a_terminal_job(argv: list[str]) -> list[str]:
    """``argv`` with SIGINT at its default action, as in a terminal's foreground job.

    A runner started in the background by a non-interactive shell (``./dev test ... &``)
    ignores SIGINT, and an ignored signal stays ignored across fork and exec: tee would then
    outlive the Ctrl-C and exit 0 at the end of its input. A shell cannot undo that (POSIX:
    a signal ignored on entry cannot be trapped or reset), so Python resets it, then execs."""
    reset = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
             "os.execvp(sys.argv[1], sys.argv[1:])")
    return [sys.executable, "-c", reset, *argv]


@pytest.fixture
def err_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "err.log"


def assert_ramped_down_cleanly(err: str) -> None:
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err
    assert RAMPED in err and OPENED in err, err  # ramped to zero, then opened in order
    assert SAFE in err, err


def test_run_piped_into_head_ramps_down_and_exits_0(err_file: Path) -> None:
    """`v2xctl run | head -n 8`: head exits, the next status line finds the pipe closed."""
    with err_file.open("w") as err:
        run = subprocess.Popen([*V2XCTL, "run", *FAST, *LONG], stdout=subprocess.PIPE,
                               stderr=err, env=child_env())
        assert run.stdout is not None
        head = subprocess.Popen(["head", "-n", "8"], stdin=run.stdout, stdout=subprocess.PIPE,
                                text=True)
        run.stdout.close()  # head holds the only reading end now
        try:
            shown, _ = head.communicate(timeout=TIMEOUT_S)
            code = run.wait(timeout=TIMEOUT_S)
        finally:
            run.kill()
            head.kill()
    assert len(shown.splitlines()) == 8
    assert any("energised_charge" in line for line in shown.splitlines())
    log = err_file.read_text()
    assert code == 0, log
    assert "stdout closed" in log, log
    assert_ramped_down_cleanly(log)


def test_ctrl_c_on_a_tee_pipeline_ramps_down(tmp_path: Path, err_file: Path) -> None:
    """`v2xctl run 2>err | tee log` and Ctrl-C: the terminal sends SIGINT to the whole
    foreground group, so tee dies with it and stdout is closed while the controller stops."""
    with err_file.open("w") as err:
        run = subprocess.Popen([*V2XCTL, "run", *FAST, *LONG], stdout=subprocess.PIPE,
                               stderr=err, env=child_env(), process_group=0)
        assert run.stdout is not None
        tee = subprocess.Popen(as_a_terminal_job(["tee", str(tmp_path / "log")]), stdin=run.stdout,
                               stdout=subprocess.PIPE, text=True, process_group=run.pid)
        run.stdout.close()
        try:
            assert tee.stdout is not None
            read_until_charging(tee.stdout)
            os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does
            tee.wait(timeout=TIMEOUT_S)
            code = run.wait(timeout=TIMEOUT_S)
        finally:
            run.kill()
            tee.kill()
    assert tee.returncode == -signal.SIGINT  # the pipe's reader really went away
    log = err_file.read_text()
    assert code == 0, log
    assert "SIGINT" in log, log
    assert_ramped_down_cleanly(log)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_with_stdout_closed_ramps_down(sig: signal.Signals, err_file: Path) -> None:
    with err_file.open("w") as err:
        run = subprocess.Popen([*V2XCTL, "run", *FAST, *LONG], stdout=subprocess.PIPE,
                               stderr=err, text=True, env=child_env())
        assert run.stdout is not None
        try:
            read_until_charging(run.stdout)
            run.stdout.close()
            run.send_signal(sig)
            code = run.wait(timeout=TIMEOUT_S)
        finally:
            run.kill()
    log = err_file.read_text()
    assert code == 0, log
    assert_ramped_down_cleanly(log)


def test_closed_stderr_ramps_down_and_says_so_on_stdout() -> None:
    """`2>&1 | head`-like: the log stream closes; the stop is safe and stdout still says so."""
    run = subprocess.Popen([*V2XCTL, "run", *FAST, *LONG], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=child_env())
    assert run.stdout is not None and run.stderr is not None
    try:
        read_until_charging(run.stdout)
        run.stderr.close()
        out, _ = run.communicate(timeout=TIMEOUT_S)
    finally:
        run.kill()
    assert run.returncode == 0, out
    assert "stderr closed" in out
    assert out.rstrip().endswith(SAFE), out


def test_status_line_says_stopping_during_the_ramp_down(err_file: Path) -> None:
    with err_file.open("w") as err:
        run = subprocess.Popen([*V2XCTL, "run", "--speed", "4", *LONG],
                               stdout=subprocess.PIPE, stderr=err, text=True, env=child_env())
        assert run.stdout is not None
        try:
            read_until_charging(run.stdout)
            run.send_signal(signal.SIGINT)
            out, _ = run.communicate(timeout=TIMEOUT_S)
        finally:
            run.kill()
    log = err_file.read_text()
    assert run.returncode == 0, log
    status = [line for line in out.splitlines() if line.startswith("t=")]
    assert "stopping (ramp-down)" in status[-1], out  # at once, not a line later
    assert "stop requested by the user (SIGINT" in log, log  # the user's request, by name
    assert "safety claims idle" not in log, log


# ----- the shutdown report says what really happened ------------------------------------------
def backup_island(make_charger: Callable[..., Charger]) -> Charger:
    charger = make_charger({"backup": {"return_delay_s": 10.0}})
    charger.world.home.load_w = 2000.0
    charger.request("v2h")
    charger.run_until(lambda: charger.state is State.ENERGISED_V2H, limit_s=5.0)
    charger.run(10.0)
    charger.world.outage()
    charger.run(3.0)
    assert charger.state is State.BACKUP_ISLAND
    return charger


def shutdown_events(charger: Charger, start: float) -> list[str]:
    return [f"{e.kind}: {e.text}" for e in charger.store.events(50) if e.t >= start]


def test_backup_stop_report_states_the_real_duration_and_contactors(
        make_charger: Callable[..., Charger]) -> None:
    """K_GRID (normally closed) recloses after its coil drops: the report waits for the aux
    contact instead of calling it 'still closed' straight after the drop."""
    charger = backup_island(make_charger)
    start = charger.now
    assert charger.sup.shutdown(requested_by="the user", why="SIGTERM")
    took = charger.now - start
    events = shutdown_events(charger, start)
    text = "\n".join(events)
    assert events[-1] == f"shutdown: {SAFE}", text
    assert "forced" not in text and "still closed" not in text, text
    assert "stop requested by the user (SIGTERM)" in text, text
    assert f"took {took:.1f} s" in text and took < 3.0, text  # not the 7.0 s limit
    assert "grid closed (its de-energised position)" in text, text
    assert charger.world.contactor_closed("grid")  # plant truth: K_GRID really reclosed


def test_a_contactor_that_does_not_open_is_reported_and_not_confirmed(
        make_charger: Callable[..., Charger]) -> None:
    charger = make_charger()
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)
    charger.run(3.0)
    charger.world.contactors["ac"].welded = True  # welds while carrying current
    start = charger.now
    confirmed = charger.sup.shutdown()
    text = "\n".join(shutdown_events(charger, start))
    assert not confirmed, text
    assert charger.world.contactor_closed("ac")  # plant truth: still closed
    assert "ac still closed" in text, text
    assert SAFE not in text, text


def test_a_failed_start_leaves_no_state_database(tmp_path: Path) -> None:
    """A `pi` config off a Pi: the hardware fails to open; the store was never created."""
    store = tmp_path / "var" / "state.db"
    path = tmp_path / "pi.toml"
    path.write_text(f'[hal]\nbackend = "pi"\n[store]\npath = "{store}"\n')
    result = subprocess.run([*V2XCTL, "run", "--config", str(path), "--duration", "1"],
                            capture_output=True, text=True, timeout=TIMEOUT_S,
                            env=child_env(), check=False)
    assert result.returncode == 2
    assert "cannot start:" in result.stderr
    assert not store.exists() and not store.parent.exists()


def test_a_failing_per_tick_output_stops_safely_instead_of_raising_into_the_loop(
        charger: Charger) -> None:
    charger.request("charge")
    charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)
    calls: list[float] = []

    def broken(sup: object) -> None:
        calls.append(charger.now)
        raise RuntimeError("a bug in the status code")

    guarded = GuardedCallback(broken)
    charger.sup.run(duration_s=60.0, on_tick=guarded, stop=lambda: bool(guarded.failure))
    assert guarded.failure == "RuntimeError: a bug in the status code"
    assert len(calls) == 1 and charger.state is State.ENERGISED_CHARGE  # still under control
    assert charger.sup.shutdown(requested_by="the controller", on_tick=guarded)
    assert "stopping_ramp" in [t.dest for t in charger.sup.transitions]  # ramped, then opened
