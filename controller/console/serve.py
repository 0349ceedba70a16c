"""Starting the console from ``v2xctl run``: one server for every configured port.

With the simulator each port is a pty pair; a person attaches to the terminal end the simulator
opens for them (printed at start-up) with pyserial's ``miniterm`` (in the venv), ``picocom`` or
``screen``.
"""

from __future__ import annotations

import sys

from controller.console.server import ConsoleServer
from controller.store.audit_store import AuditStore
from controller.store.state_store import StateStore
from controller.supervisor.loop import Supervisor
from hal.interfaces.hardware import Hardware


def start_console(supervisor: Supervisor, hardware: Hardware,
                  store: StateStore) -> tuple[ConsoleServer | None, list[str]]:
    """The server (None without ports) and one line per port saying how to reach it."""
    if not hardware.serial:
        return None, []
    baud = supervisor.config.hal.serial.baudrate
    lines = []
    for name in hardware.serial:
        path = hardware.io.open_terminal(name)  # the simulator's; None on a Pi
        if path is None:
            lines.append(f"console on {name} at {baud} bit/s (docs/console.md)")
        else:
            lines.append(f"console {name} (simulated): attach with "
                         f"`{sys.executable} -m serial.tools.miniterm {path} {baud}` "
                         f"(or `picocom -b {baud} {path}`)")
    audit = AuditStore(store.connection, store.retention.audit)
    server = ConsoleServer(supervisor, hardware.serial, audit)
    return server, lines


BUILT_IN_PORT = "/dev/ttyGS0"  # the USB gadget port; the simulator serves it on a pty
DEMO_PINS = {"operator": "1111", "technician": "2222"}


def built_in_console() -> tuple[dict[str, object], str]:
    """Config for the built-in simulator's console (demo PINs, never for a real charger)."""
    from controller.console.pin_hash import hash_pin

    hashes = {f"{role}_pin_hash": hash_pin(pin) for role, pin in DEMO_PINS.items()}
    note = ("console demo PINs (built-in simulator only): "
            + ", ".join(f"{role} {pin}" for role, pin in DEMO_PINS.items()))
    return {"hal": {"serial": {"ports": [BUILT_IN_PORT]}}, "console": hashes}, note
