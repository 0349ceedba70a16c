"""CAN: each interface is up at the protocol's bitrate, and the inverter answers.

On the Pi the interface state comes from ``/sys/class/net/<channel>/operstate`` and, when the
``ip`` command is there, the controller state and bitrate from ``ip -details -json link show``.
The inverter check listens through the production :class:`InverterLink` for up to
:data:`LISTEN_S` of clock time and sends nothing (no command, no settings).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from controller.doctor.devices import Devices
from controller.doctor.report import Check, failed, passed, skipped
from controller.links.inverter_link import ERROR_FRAMES, InverterLink
from hal.protocols.inverter_codec import InverterCodec
from hal.protocols.inverter_frames import INV_STATUS_ID

EXPECTED_BITRATE: Final = 500_000  # docs/inverter-protocol.md and CHAdeMO: 500 kbit/s
LISTEN_S: Final = 0.5
POLL_S: Final = 0.01
SYSFS_NET: Final = Path("/sys/class/net")
IP_TIMEOUT_S: Final = 2.0
NETWORK_FILES = {"inverter": "systemd/80-v2x-can0.network", "ev": "systemd/80-v2x-can1.network"}


@dataclass(frozen=True)
class InterfaceState:
    exists: bool
    operstate: str = ""
    can_state: str = ""  # ERROR-ACTIVE, ERROR-WARNING, ERROR-PASSIVE, BUS-OFF, STOPPED
    bitrate: int | None = None
    note: str = ""  # why the details are missing


def parse_ip_details(text: str) -> tuple[str, int | None]:
    """(controller state, bitrate) from ``ip -details -json link show <channel>`` output."""
    data: Any = json.loads(text)
    entry = data[0] if isinstance(data, list) and data else {}
    info = entry.get("linkinfo", {}).get("info_data", {}) if isinstance(entry, dict) else {}
    bitrate = info.get("bittiming", {}).get("bitrate")
    return str(info.get("state", "")), int(bitrate) if isinstance(bitrate, int) else None


def read_interface(channel: str, sysfs: Path = SYSFS_NET) -> InterfaceState:
    base = sysfs / channel
    if not base.exists():
        return InterfaceState(exists=False)
    try:
        operstate = (base / "operstate").read_text(encoding="ascii").strip()
    except OSError as err:
        operstate = f"unreadable ({err})"
    ip = shutil.which("ip")
    if ip is None:
        return InterfaceState(True, operstate, note="`ip` not found: bitrate not read")
    try:
        result = subprocess.run([ip, "-details", "-json", "link", "show", channel],
                                capture_output=True, text=True, timeout=IP_TIMEOUT_S,
                                check=False)
        can_state, bitrate = parse_ip_details(result.stdout)
    except (OSError, subprocess.SubprocessError, ValueError, AttributeError) as err:
        return InterfaceState(True, operstate, note=f"`ip -details` unreadable ({err})")
    return InterfaceState(True, operstate, can_state, bitrate)


def _bring_up_hint(channel: str, role: str) -> str:
    return (f"bring {channel} up at {EXPECTED_BITRATE} bit/s: enable systemd-networkd with "
            f"{NETWORK_FILES[role]} installed in /etc/systemd/network/, or by hand "
            f"`sudo ip link set {channel} up type can bitrate {EXPECTED_BITRATE} restart-ms 100`")


def interface_checks(devices: Devices) -> list[Check]:
    can = devices.settings.can
    checks: list[Check] = []
    for role, channel in (("inverter", can.inverter_channel), ("ev", can.ev_channel)):
        name = f"can.{role}"
        if devices.unreachable:
            checks.append(skipped(name, f"{channel} not checked: {devices.unreachable}"))
        elif devices.simulated:
            checks.append(_simulated(name, role, devices))
        else:
            checks.append(_real(name, role, channel, devices))
    return checks


def _simulated(name: str, role: str, devices: Devices) -> Check:
    link = devices.can.get(role)
    if link is None:
        return failed(name, f"simulated {role} bus missing from the backend",
                      "this is a simulator defect: report it with the doctor's output")
    info = getattr(link, "channel_info", link.name)
    label = "EV" if role == "ev" else role
    return passed(name, f"simulated {label} bus: python-can virtual channel opened ({info})")


def _real(name: str, role: str, channel: str, devices: Devices) -> Check:
    state = read_interface(channel)
    if not state.exists:
        return failed(name, f"{channel}: no such network interface",
                      f"check the CAN HAT is seated and its overlay is in "
                      f"/boot/firmware/config.txt (e.g. dtoverlay=mcp2515-{channel},...; "
                      f"see hw/README.md), reboot, then `ip link show {channel}`")
    if state.operstate != "up":
        return failed(name, f"{channel} is {state.operstate or 'not up'}",
                      _bring_up_hint(channel, role))
    if state.bitrate is not None and state.bitrate != EXPECTED_BITRATE:
        return failed(name, f"{channel} is up at {state.bitrate} bit/s, expected "
                            f"{EXPECTED_BITRATE}", _bring_up_hint(channel, role))
    if state.can_state == "BUS-OFF":
        return failed(name, f"{channel} is bus-off",
                      "check CAN_H/CAN_L/GND wiring and termination (about 60 ohm between "
                      "CAN_H and CAN_L with everything powered off) and that every node "
                      f"runs {EXPECTED_BITRATE} bit/s; restart-ms recovers it")
    problem = devices.can_problems.get(role)
    if problem is not None:
        return failed(name, f"{channel} is up but cannot be opened: {problem}",
                      "check the service user may open CAN sockets and python-can's "
                      "socketcan interface works (`candump` from can-utils on the same channel)")
    rate = f"{state.bitrate} bit/s" if state.bitrate is not None else state.note
    ctrl = f", {state.can_state}" if state.can_state else ""
    return passed(name, f"{channel} up, {rate}{ctrl}")


def inverter_check(devices: Devices, stale_after_s: float) -> Check:
    name = "inverter.answers"
    channel = devices.settings.can.inverter_channel
    if devices.unreachable:
        return skipped(name, f"not checked: {devices.unreachable}")
    link = devices.can.get("inverter")
    if link is None:
        return skipped(name, f"not checked: {channel} could not be opened (see can.inverter)")
    codec = InverterCodec()
    inverter = InverterLink(link, codec, stale_after_s=stale_after_s)
    clock = devices.clock
    start = clock.now()
    deadline = start + LISTEN_S
    while True:
        now = clock.now()
        inverter.poll(now)
        status = inverter.status
        if status is not None:
            return passed(name, f"INV_STATUS after {(now - start) * 1000:.0f} ms: inverter "
                                f"{status.state.name}, DC {status.dc_voltage_v:.0f} V "
                                f"(listened only; nothing was sent)")
        if now >= deadline:
            break
        clock.sleep_until(min(now + POLL_S, deadline))
    rejected = {k: v for k, v in inverter.counters.items() if v}
    where = channel if not devices.simulated else f"the simulated {channel}"
    detail = f"no valid INV_STATUS (0x{INV_STATUS_ID:03X}) on {where} within {LISTEN_S:g} s"
    if rejected:
        detail += " (" + ", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) + ")"
    cycle_ms = codec.cycle_time_s(INV_STATUS_ID) * 1000
    if rejected.get(ERROR_FRAMES):
        hint = ("CAN error frames: check termination (120 ohm at both ends), CAN_H/CAN_L/GND "
                f"wiring and that the inverter runs {EXPECTED_BITRATE} bit/s")
    elif rejected:
        hint = ("frames arrive but fail their checks (length, CRC, counter, ranges): check "
                "the inverter firmware speaks hal/protocols/inverter.dbc "
                "(docs/inverter-protocol.md)")
    else:
        hint = (f"check the inverter is powered and its CAN port enabled, the CAN_H/CAN_L/GND "
                f"wiring and termination; `candump {channel}` should show 0x{INV_STATUS_ID:03X} "
                f"every {cycle_ms:.0f} ms")
    return failed(name, detail, hint)
