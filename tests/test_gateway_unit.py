"""The gateway's systemd unit, its socket directory and the example configs agree and are
hardened: exposure <= 3.0, networking but no device, no CAN, no capability."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from controller.config.loader import load_config_file
from gateway.config import load_gateway_config
from gateway.settings import ControllerLinkSettings

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_UNIT = ROOT / "systemd" / "v2x-gateway.service"
CONTROLLER_UNIT = ROOT / "systemd" / "v2x-controller.service"
TMPFILES = ROOT / "systemd" / "tmpfiles.d" / "v2x-control.conf"
EXPOSURE_LIMIT = 3.0
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _values(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_gateway_exposure_is_at_most_3() -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager",
                             str(GATEWAY_UNIT)], capture_output=True, text=True, timeout=120,
                            check=False)
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    score = float(match.group(1))
    print(f"systemd-analyze security: v2x-gateway.service exposure {score}")
    assert score <= EXPOSURE_LIMIT


def test_the_gateway_has_the_network_and_nothing_else() -> None:
    unit = _values(GATEWAY_UNIT)
    assert unit["User"] == ["v2x-gateway"] and unit["SupplementaryGroups"] == ["v2x-control"]
    assert unit["PrivateDevices"] == ["yes"] and "DeviceAllow" not in unit
    families = set(unit["RestrictAddressFamilies"][0].split())
    assert families == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert unit["CapabilityBoundingSet"] == [""] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ExecStart"][0].endswith("--config /etc/v2x-gateway/gateway.toml")


def test_the_controller_unit_stays_without_network() -> None:
    unit = _values(CONTROLLER_UNIT)
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX AF_CAN AF_NETLINK"]
    assert unit["IPAddressDeny"] == ["any"]
    assert "/run/v2x-control" in unit["ReadWritePaths"]
    assert unit["RuntimeDirectoryMode"] == ["0700"]  # its own runtime directory stays closed


def test_socket_directory_configs_and_units_agree() -> None:
    kind, path, mode, owner, group, _ = TMPFILES.read_text().splitlines()[-1].split()
    assert (kind, mode, owner, group) == ("d", "2750", "v2x", "v2x-control")
    controller = load_config_file(ROOT / "hw" / "config.example.toml")
    gateway = load_gateway_config(ROOT / "hw" / "gateway.example.toml")
    socket_path = controller.control_socket.path
    assert Path(socket_path).parent == Path(path)
    assert gateway.get(ControllerLinkSettings).path == socket_path
    example = tomllib.loads((ROOT / "hw" / "gateway.example.toml").read_text())
    assert example["mqtt"]["password"] == ""  # no secret ships in the example
