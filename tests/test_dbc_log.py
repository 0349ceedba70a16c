"""A recorded log of the controller's frames decodes with the DBC and cantools' own CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import can
import cantools

from controller.modes.states import State
from hal.protocols import dbc_path
from harness import Charger


def test_dbc_loads_with_plain_cantools() -> None:
    db = cantools.database.load_file(str(dbc_path("inverter")))
    assert {m.name for m in db.messages} >= {"INV_CMD", "INV_STATUS", "INV_STATUS2", "INV_FAULT"}


def test_candump_log_of_the_controller_decodes(charger: Charger, tmp_path: Path) -> None:
    tap = can.Bus(interface="virtual", channel=charger.world.can_channels["inverter"])
    log = tmp_path / "candump.log"
    writer = can.CanutilsLogWriter(str(log), channel="can0")
    try:
        charger.request("charge")
        charger.run_until(lambda: charger.state is State.ENERGISED_CHARGE, limit_s=5.0)
        charger.run(1.0)
        written = 0
        while (message := tap.recv(timeout=0.0)) is not None:
            writer.on_message_received(message)
            written += 1
    finally:
        writer.stop()
        tap.shutdown()
    assert written > 100
    result = subprocess.run(
        [sys.executable, "-m", "cantools", "decode", str(dbc_path("inverter"))],
        stdin=log.open(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Unknown frame" not in out
    assert out.count("INV_CMD(") > 50
    assert "Mode: GRID_FOLLOWING" in out
    assert "INV_SET_CTRL(" in out and "INV_STATUS(" in out
