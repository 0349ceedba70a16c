"""The v2xctl command line as a user runs it: real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli.main import main

V2XCTL = [sys.executable, "-m", "controller.cli.main"]


def v2xctl(*args: str, env: dict[str, str] | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*V2XCTL, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


def test_version() -> None:
    result = v2xctl("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("v2xctl ")


@pytest.mark.parametrize("verb", [[], ["run"], ["config"], ["config", "check"],
                                  ["config", "doc"]])
def test_help_on_every_verb(verb: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*verb, "--help"])
    assert info.value.code == 0
    assert "usage: v2xctl" in capsys.readouterr().out


def test_config_check_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text('[hal]\nbackend = "sim"\n')
    result = v2xctl("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_config_check_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[hal]\nbackend = "pi"\ncolour = "red"\n[control]\ntick_s = "fast"\n'
                    "[limits]\nramp_rate_w_per_s = 0\n")
    result = v2xctl("config", "check", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    assert any("hal.colour: unknown key" in line for line in lines)
    assert any("control.tick_s = 'fast': wrong type str, expected number" in line
               for line in lines)
    assert any("limits.ramp_rate_w_per_s = 0.0: out of range, allowed 10.0 to 50000.0 W/s"
               in line for line in lines)


def test_config_check_missing_file(tmp_path: Path) -> None:
    result = v2xctl("config", "check", str(tmp_path / "none.toml"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_run_bad_config_energises_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[hal]\nbackend = "sim"\n[control]\ntick_s = 9\n')
    result = v2xctl("run", "--config", str(path), "--duration", "1")
    assert result.returncode == 2
    assert "config error: control.tick_s = 9.0: out of range" in result.stderr
    assert "t=" not in result.stdout  # the loop never started


def test_run_pi_backend_without_hardware_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "pi.toml"
    path.write_text('[hal]\nbackend = "pi"\n')
    result = v2xctl("run", "--config", str(path), "--duration", "1")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("cannot start:"), errors
    assert "GPIO" in errors[0] or "I2C" in errors[0]


def test_run_pi_backend_refuses_gpiozero_mock_pins(tmp_path: Path) -> None:
    """``GPIOZERO_PIN_FACTORY=mock`` must not turn the real backend into one driving nothing
    (the missing I2C bus after GPIO is named by tests/test_pin_factory.py)."""
    path = tmp_path / "pi.toml"
    path.write_text('[hal]\nbackend = "pi"\n[hal.i2c]\nbus = 29\n')
    result = v2xctl("run", "--config", str(path), "--duration", "1",
                    env={"GPIOZERO_PIN_FACTORY": "mock"})
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, errors
    assert errors[0].startswith("cannot start: GPIOZERO_PIN_FACTORY=mock is set, but "
                                "hal.backend = \"pi\" drives the real pins through lgpio only")


def test_run_with_duration_prints_status_and_shuts_down_safely() -> None:
    result = v2xctl("run", "--duration", "5", "--speed", "10")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("No config given: running the built-in simulated charger")
    status = [line for line in lines if line.startswith("t=")]
    assert len(status) >= 5
    assert any("energised_charge" in line for line in status)
    assert lines[-1] == "safe shutdown: power ramped to zero, contactors open, inverter off"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_run_ramps_down_and_exits_zero(sig: signal.Signals) -> None:
    proc = subprocess.Popen([*V2XCTL, "run", "--speed", "5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # wait (without sleeping) until it is charging
            if "energised_charge" in line and "EV" in line:
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"{sig.name} received: stopping safely" in out
    assert out.rstrip().endswith("safe shutdown: power ramped to zero, contactors open, "
                                 "inverter off")
    assert "stopping_ramp -> stopping_open" in err
