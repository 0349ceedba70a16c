"""The host: the console serial ports exist, the state directory is writable, the watchdog is on.

``/dev/watchdog`` is only looked at, never opened: opening it arms the hardware watchdog, and a
process that then exits without the magic close reboots the Pi.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from controller.doctor.report import Check, failed, passed, skipped
from hal.interfaces.serial_port import SerialPort

MEMORY_STORE: Final = ":memory:"
WATCHDOG_DEVICE: Final = Path("/dev/watchdog")
SYSTEMCTL_TIMEOUT_S: Final = 2.0
MB: Final = 1e6
SERVICE_USER_HINT: Final = ("run the doctor as the service user "
                            "(`sudo -u v2x v2xctl doctor --config FILE`)")


def serial_check(ports: tuple[str, ...], simulated: bool,
                 opened: Mapping[str, SerialPort]) -> Check:
    name = "serial.ports"
    if not ports:
        return skipped(name, "no console serial ports configured (hal.serial.ports)")
    if simulated:
        missing = [p for p in ports if p not in opened]
        if missing:
            return failed(name, f"simulated ports not opened: {', '.join(missing)}",
                          "this is a simulator defect: report it with the doctor's output")
        return passed(name, "simulated: " + ", ".join(ports) + " each served on a pty")
    problems: list[str] = []
    found: list[str] = []
    for port in ports:
        path = Path(port)
        if not path.exists():
            problems.append(f"{port}: does not exist")
        elif not os.access(path, os.R_OK | os.W_OK):
            problems.append(f"{port}: exists but is not readable and writable by this user")
        else:
            target = os.path.realpath(path)
            found.append(port if target == port else f"{port} -> {target}")
    if problems:
        return failed(name, f"{len(problems)} of {len(ports)} console port(s) unusable",
                      "use the USB gadget port /dev/ttyGS0 (hw/install.sh sets up dwc2 and "
                      "g_serial; reboot after installing) or a USB-serial adapter "
                      "(/dev/ttyUSB0); not the UART: BCM 14/15 are rcm_ok/imd_ok in the "
                      "reference wiring (hw/README.md); the service user needs the dialout "
                      "group",
                      items=problems)
    return passed(name, ", ".join(found) + " present (read/write)")


def state_dir_check(store_path: str, limit_bytes: int) -> Check:
    """The state directory takes files, and its file system has room for the database to
    grow to ``limit_bytes`` (its size with every table at its ``[store]`` limit)."""
    name = "state.dir"
    if store_path == MEMORY_STORE:
        return skipped(name, "store.path is :memory:: nothing is kept across restarts "
                             "(installs use /var/lib/v2x-controller/state.db)")
    path = Path(store_path)
    parent = path.parent
    create_hint = (f"create it owned by the service user: `sudo install -d -o v2x -g v2x "
                   f"-m 0750 {parent}` (the installer does this)")
    if not parent.is_dir():
        return failed(name, f"{parent} (store.path's directory) does not exist", create_hint)
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".v2x-doctor-"):
            pass  # created and removed again: the directory takes new files
    except OSError as err:
        return failed(name, f"{parent} is not writable: {err}",
                      f"make it owned by the service user; {SERVICE_USER_HINT} to check as "
                      "the controller runs")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return failed(name, f"{path} exists but is not readable and writable by this user",
                      f"chown it to the service user; {SERVICE_USER_HINT}")
    size = path.stat().st_size if path.exists() else 0
    state = f"{size / MB:.1f} MB" if path.exists() else "will be created at the first run"
    free = shutil.disk_usage(parent).free
    room = (f"{free / MB:.0f} MB free; at its [store] limits the database grows to about "
            f"{limit_bytes / MB:.0f} MB")
    if free < limit_bytes - size:
        return failed(name, f"{parent} has too little space: {room} ({path.name} {state})",
                      "free space on that file system or lower the [store] keep_* limits: a "
                      "full disk fails the store's writes, STORE_WRITE_FAILED stops the charger")
    return passed(name, f"{parent} is writable ({path.name} {state}; {room})")


def parse_runtime_watchdog(text: str) -> str | None:
    """systemd's ``RuntimeWatchdogUSec`` from ``systemctl show`` output; None when it is off."""
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key == "RuntimeWatchdogUSec":
            value = value.strip()
            return None if value in ("", "0", "off") else value
    value = text.strip()
    return None if value in ("", "0", "off") or "=" in value else value


def read_runtime_watchdog() -> tuple[bool, str | None]:
    """``(readable, setting)`` from ``systemctl show -p RuntimeWatchdogUSec``."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return False, None
    try:
        result = subprocess.run([systemctl, "show", "-p", "RuntimeWatchdogUSec"],
                                capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT_S,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return False, None
    if result.returncode != 0 or "RuntimeWatchdogUSec" not in result.stdout:
        return False, None
    return True, parse_runtime_watchdog(result.stdout)


def watchdog_check(simulated: bool, device: Path = WATCHDOG_DEVICE) -> Check:
    name = "watchdog"
    if simulated:
        return skipped(name, "simulator: no hardware watchdog; under systemd, `v2xctl run` "
                             "pets WatchdogSec= from its healthy loop")
    if not device.exists():
        return failed(name, f"{device} does not exist",
                      "enable the Pi's hardware watchdog (dtparam=watchdog=on in "
                      "/boot/firmware/config.txt), reboot, then check `ls -l /dev/watchdog`")
    readable, setting = read_runtime_watchdog()
    if not readable:
        return passed(name, f"{device} present; systemd's RuntimeWatchdogSec not readable "
                            "here (no systemd manager)")
    if setting is None:
        return failed(name, f"{device} present but systemd does not use it "
                            "(RuntimeWatchdogUSec=0)",
                      "set RuntimeWatchdogSec=15s in a drop-in under "
                      "/etc/systemd/system.conf.d/ (the installer adds one), then "
                      "`sudo systemctl daemon-reexec`")
    return passed(name, f"{device} present, systemd pets it (RuntimeWatchdogUSec={setting})")
