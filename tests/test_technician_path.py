"""From a fresh install to a technician who clears a latched E-stop (issue 17, item 1).

The path a builder follows, as far as the simulator allows: a staging install
(``hw/install.sh --root DIR --yes``; ``--no-venv`` because ``tests/test_install.py`` covers the
venv), the ``hw/README.md`` steps on the installed config (hash the PINs with ``v2xctl console
hash-pin``, paste them, list the USB gadget port, ``v2xctl config check``), then the controller on
the sim backend with that config (its store in the staging state directory and its console port
on a pty), an E-stop that latches, ``v2xctl faults`` in its own process while the controller
runs, and the technician logging in on the terminal and resetting.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from controller.console.server import ConsoleServer
from controller.modes.states import State
from controller.store.audit_store import AuditStore
from hal.sim.backend import simulated
from tests.harness import Charger
from tests.test_console_bench import PORT, Bench
from tests.test_install import CONFIG, copy_checkout, make_root, run_installer

ROOT = Path(__file__).resolve().parent.parent
OPERATOR_PIN = "135790"
TECHNICIAN_PIN = "24680135"


def v2xctl(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller.cli.main", *args], input=stdin,
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def hash_pin(pin: str) -> str:
    """``v2xctl console hash-pin`` as the README says (``--stdin`` instead of the prompt)."""
    result = v2xctl("console", "hash-pin", "--stdin", stdin=pin + "\n")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not in the installed config exactly once"
    return text.replace(old, new)


class InstalledBench(Bench):
    """Bench (tests/test_console_bench.py) on a config file instead of test overrides."""

    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        self.charger = Charger(data)
        self.audit = AuditStore(self.charger.store.connection)
        self.console = ConsoleServer(self.charger.sup, self.charger.hw.serial, self.audit)
        self.pair = simulated(self.charger.hw).ptys[PORT]
        self.path = self.pair.open_terminal()
        self.term = serial.Serial(self.path, 115200, timeout=0)
        self.seen = bytearray()
        self.events: list[dict[str, Any]] = []
        self.ticks = 0
        self._received = 0
        self._others: dict[str, serial.Serial] = {}


@pytest.fixture(scope="module")
def installed_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(root, the installed config edited as hw/README.md says)."""
    base = tmp_path_factory.mktemp("technician")
    checkout = copy_checkout(base / "checkout")
    root = make_root(base)
    result = run_installer(checkout, "--root", str(root), "--yes", "--no-venv")
    assert result.returncode == 0, result.stderr
    assert "console hash-pin" in result.stdout  # the installer names the next step
    assert "! no technician console yet" in run_installer(
        checkout, "--dry-run", "--root", str(root), "--no-venv").stdout
    config = root / CONFIG
    text = config.read_text(encoding="utf-8")
    text = edit(text, 'operator_pin_hash = ""', f'operator_pin_hash = "{hash_pin(OPERATOR_PIN)}"')
    text = edit(text, "\nports = []", f'\nports = ["{PORT}"]')
    config.write_text(text, encoding="utf-8")
    refused = v2xctl("config", "check", str(config))
    assert refused.returncode == 2 and "technician_pin_hash: empty" in refused.stderr
    text = edit(text, 'technician_pin_hash = ""',
                f'technician_pin_hash = "{hash_pin(TECHNICIAN_PIN)}"')
    config.write_text(text, encoding="utf-8")
    checked = v2xctl("config", "check", str(config))
    assert checked.returncode == 0 and "valid (backend pi)" in checked.stdout, checked.stderr
    again = run_installer(checkout, "--dry-run", "--root", str(root), "--no-venv")
    assert f"= technician console on {PORT} with a technician PIN" in again.stdout
    return root, config


@pytest.fixture
def bench(installed_config: tuple[Path, Path], tmp_path: Path) -> Iterator[InstalledBench]:
    """The controller on the sim backend with the installed config; its store in the staging
    state directory (a fresh one per test)."""
    root, config = installed_config
    state = tmp_path / "state.db"
    text = config.read_text(encoding="utf-8")
    text = edit(text, 'backend = "pi"', 'backend = "sim"')
    text = edit(text, 'path = "/var/lib/v2x-controller/state.db"', f'path = "{state}"')
    sim_config = tmp_path / "config.toml"
    sim_config.write_text(text, encoding="utf-8")
    assert (root / "var/lib/v2x-controller").is_dir()
    b = InstalledBench(sim_config)
    yield b
    b.close()


def test_a_technician_clears_a_latched_estop_on_a_fresh_install(bench: InstalledBench) -> None:
    config = str(bench.config_file)
    assert "viewer]> " in bench.until(b"]> ").decode()
    bench.run_until(lambda: bench.charger.state is State.EV_CONNECTED, 10.0)
    bench.charger.world.press_estop()
    bench.run_until(lambda: bench.charger.state is State.ESTOP, 1.0)
    bench.charger.store.flush()  # committed by the writer thread (as the daemon does in ms)

    shown = v2xctl("faults", "--config", config)  # its own process; the controller runs on
    assert shown.returncode == 0, shown.stderr
    assert "ESTOP  ACTIVE" in shown.stdout and "login, then reset" in shown.stdout
    bench.run(0.5)

    assert bench.type("login", until=b"PIN: ").endswith("PIN: ")
    answer = bench.type(TECHNICIAN_PIN)
    assert "logged in as technician" in answer and TECHNICIAN_PIN not in answer
    bench.type("reset")
    bench.run(0.5)
    assert bench.charger.state is State.ESTOP, "a reset with the loop open must be refused"
    bench.charger.world.release_estop()
    bench.run(1.0)
    assert "reset requested" in bench.type("reset")
    bench.run_until(lambda: bench.charger.state is not State.ESTOP, 1.0)
    assert "no latched faults" in bench.type("faults")
    bench.charger.store.flush()

    assert v2xctl("faults", "--config", config).stdout.strip() == "no latched faults"
    audit = json.loads(v2xctl("log", "--config", config, "--only", "audit", "--json").stdout)
    assert [(a["port"], a["role"], a["command"]) for a in audit["audit"]] == [
        (PORT, "technician", "login"), (PORT, "technician", "reset"),
        (PORT, "technician", "reset")]
    events = json.loads(v2xctl("log", "--config", config, "--only", "events", "--json").stdout)
    texts = [e["text"] for e in events["events"]]
    assert any("reset refused: still present: ESTOP" in t for t in texts)
    assert any("latched faults cleared" in t for t in texts)
