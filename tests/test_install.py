"""The Pi installer (``hw/install.sh``), the stop hook (``hw/v2x-safe-outputs``) and the units.

The installer runs for real as a subprocess: a dry run on this (non-Pi) machine, and full
installs into temporary roots with ``--root`` (users, apt and systemctl are skipped there by
design). The virtual environment is created for real; ``V2X_INSTALL_PIP_OPTS=--no-deps``
installs the package from the checkout without downloading its dependencies.

``systemd-analyze verify`` checks that every ExecStart/ExecStopPost binary exists, so each
installed unit is verified as a copy whose ``/opt/v2x-controller`` paths point into the
temporary root, where the installer has just put the real venv and hook. verify exits 0 even
when it ignores an unknown key or a bad value, so any output on stderr fails the test too.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hal.settings import HalSettings

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = Path("hw") / "install.sh"
HOOK = Path("hw") / "v2x-safe-outputs"
SERVICE = ROOT / "systemd" / "v2x-controller.service"
EXAMPLE = ROOT / "hw" / "config.example.toml"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
EXPOSURE_LIMIT = 2.0
PIP_ENV = {"V2X_INSTALL_PIP_OPTS": "--no-deps"}

# The files of the checkout that the installer reads.
CHECKOUT_PARTS = ("hw", "systemd", "controller", "hal", "gateway", "pyproject.toml", "README.md")

# A Raspberry Pi OS Bookworm /boot/firmware/config.txt, abridged; it ends inside a model filter,
# which is why the installer's block starts with [all].
FIXTURE_CONFIG_TXT = """\
# For more options and information see
# http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
arm_64bit=1

[cm4]
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host
"""
BLOCK = [
    "[all]",
    "dtparam=i2c_arm=on",
    "# I2C at 400 kHz: the tick's reads take ~1.6 ms on the wire (~6.3 ms at 100 kHz).",
    "dtparam=i2c_arm_baudrate=400000",
    "dtparam=spi=on",
    "# BCM 14/15 are the rcm_ok and imd_ok safety inputs: no UART on them (hw/README.md).",
    "enable_uart=0",
    "gpio=14,15=ip",
    "dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25",
    "dtoverlay=mcp2515-can1,oscillator=16000000,interrupt=23",
    "dtparam=watchdog=on",
    "# Technician console: USB gadget serial /dev/ttyGS0 (Pi 4 B, Zero 2 W, Pi 5; hw/README.md).",
    "[board-type=0x11]",
    "dtoverlay=dwc2,dr_mode=peripheral",
    "[board-type=0x12]",
    "dtoverlay=dwc2,dr_mode=peripheral",
    "[board-type=0x17]",
    "dtoverlay=dwc2,dr_mode=peripheral",
    "[all]",
]
BEGIN, END = "# >>> v2x-controller", "# <<< v2x-controller"

# Installed path (without the root) -> the checkout file it comes from.
INSTALLED_FROM = {
    "etc/systemd/system/v2x-controller.service": "systemd/v2x-controller.service",
    "etc/systemd/system/v2x-gateway.service": "systemd/v2x-gateway.service",
    "etc/tmpfiles.d/v2x-control.conf": "systemd/tmpfiles.d/v2x-control.conf",
    "etc/systemd/network/80-v2x-can0.network": "systemd/80-v2x-can0.network",
    "etc/systemd/network/80-v2x-can1.network": "systemd/80-v2x-can1.network",
    "etc/systemd/network/80-v2x-can.link": "systemd/80-v2x-can.link",
    "etc/systemd/system.conf.d/v2x-watchdog.conf": "systemd/system.conf.d/v2x-watchdog.conf",
    "etc/udev/rules.d/60-v2x-controller.rules": "hw/udev/60-v2x-controller.rules",
    "etc/modules-load.d/v2x-usb-gadget.conf": "hw/modules-load.d/v2x-usb-gadget.conf",
    "opt/v2x-controller/libexec/v2x-safe-outputs": "hw/v2x-safe-outputs",
    "opt/v2x-controller/share/doc/hw-README.md": "hw/README.md",
}
CONFIG = "etc/v2x-controller/config.toml"
STATE_DIR = "var/lib/v2x-controller"
VENV = "opt/v2x-controller/venv"
BOOT_CONFIG = "boot/firmware/config.txt"


# --- helpers ----------------------------------------------------------------------------------


def copy_checkout(dest: Path) -> Path:
    """The parts of the checkout the installer reads, copied so that concurrent edits of the
    working tree cannot change the source digest between two runs of one test."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for part in CHECKOUT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore)
        else:
            shutil.copy2(src, dest / part)
    return dest


def snapshot(top: Path) -> dict[str, tuple[str, str, int]]:
    """Every entry under top: (kind, content digest or link target, mode)."""
    entries: dict[str, tuple[str, str, int]] = {}
    for path in sorted(top.rglob("*")):
        rel = str(path.relative_to(top))
        info = path.lstat()
        if path.is_symlink():
            entries[rel] = ("link", os.readlink(path), 0)
        elif path.is_dir():
            entries[rel] = ("dir", "", stat.S_IMODE(info.st_mode))
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[rel] = ("file", digest, stat.S_IMODE(info.st_mode))
    return entries


def run_installer(checkout: Path, *args: str, stdin: str = "",
                  env: dict[str, str] | None = None,
                  prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **PIP_ENV, **(env or {})}
    result = subprocess.run(
        [*prefix, "bash", str(checkout / INSTALLER), *args], input=stdin, env=full_env,
        capture_output=True, text=True, timeout=300, check=False,
    )
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    return result


def make_root(base: Path, config_txt: str = FIXTURE_CONFIG_TXT) -> Path:
    root = base / "root"
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / BOOT_CONFIG).write_text(config_txt, encoding="utf-8")
    return root


def block_of(config_txt: str) -> list[str]:
    lines = config_txt.splitlines()
    begins = [i for i, line in enumerate(lines) if line.startswith(BEGIN)]
    ends = [i for i, line in enumerate(lines) if line.startswith(END)]
    assert len(begins) == 1 and len(ends) == 1, "the block must appear exactly once"
    return lines[begins[0] + 1:ends[0]]


# --- (a) the dry run --------------------------------------------------------------------------


PLAN_MARKERS = (
    "useradd --system --home-dir /var/lib/v2x-controller --no-create-home "
    "--shell /usr/sbin/nologin --user-group --groups gpio,i2c,dialout v2x",
    "-m venv /opt/v2x-controller/venv",
    "pip install",
    "install /etc/v2x-controller/config.toml from hw/config.example.toml",
    "create the state directory /var/lib/v2x-controller",
    "install /etc/systemd/system/v2x-controller.service",
    "install /etc/systemd/network/80-v2x-can0.network",
    "install /etc/systemd/network/80-v2x-can1.network",
    "install /etc/systemd/system.conf.d/v2x-watchdog.conf",
    "install /etc/udev/rules.d/60-v2x-controller.rules",
    "install /opt/v2x-controller/libexec/v2x-safe-outputs",
    "dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25",
    "dtoverlay=mcp2515-can1,oscillator=16000000,interrupt=23",
    "dtparam=watchdog=on",
    "systemctl enable --now systemd-networkd.service",
    "install /etc/systemd/system/v2x-gateway.service",
    "install /etc/tmpfiles.d/v2x-control.conf",
    "install /etc/v2x-gateway/gateway.toml from hw/gateway.example.toml",
)
SYSTEM_PATHS = (
    "/opt/v2x-controller", "/etc/v2x-controller", "/var/lib/v2x-controller",
    "/etc/systemd/system/v2x-controller.service", "/etc/udev/rules.d/60-v2x-controller.rules",
    "/etc/systemd/network/80-v2x-can0.network", "/etc/systemd/system.conf.d/v2x-watchdog.conf",
    "/usr/local/bin/v2xctl",
)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory that any user may read and write (for the unprivileged run)."""
    with tempfile.TemporaryDirectory(prefix="v2x-install-test-") as name:
        path = Path(name)
        path.chmod(0o1777)
        yield path


def _unprivileged_prefix() -> tuple[str, ...] | None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    return ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def test_dry_run_prints_every_action_and_changes_nothing(open_tmp: Path) -> None:
    if any(Path(p).exists() for p in SYSTEM_PATHS):
        pytest.skip("v2x-controller is installed on this machine; the --root tests cover it")
    checkout = copy_checkout(open_tmp / "checkout")
    for path in [open_tmp, *open_tmp.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o755 if path.is_dir() else path.stat().st_mode | 0o444)
    scratch = open_tmp / "scratch"
    scratch.mkdir(mode=0o1777)
    scratch.chmod(0o1777)
    before = snapshot(checkout)
    runs: list[tuple[str, tuple[str, ...]]] = [("root" if os.geteuid() == 0 else "user", ())]
    unprivileged = _unprivileged_prefix()
    if unprivileged is not None:
        runs.append(("nobody", unprivileged))
    for who, prefix in runs:
        result = run_installer(checkout, "--dry-run", env={"TMPDIR": str(scratch)},
                               prefix=prefix)
        assert result.returncode == 0, f"{who}: {result.stderr}"
        for marker in PLAN_MARKERS:
            assert marker in result.stdout, f"{who}: the plan does not show {marker!r}"
        assert "Dry run" in result.stdout and "nothing was changed" in result.stdout
        assert not any(Path(p).exists() for p in SYSTEM_PATHS), f"{who}: a dry run installed"
        assert list(scratch.iterdir()) == [], f"{who}: the dry run left temporary files"
    assert snapshot(checkout) == before


def test_dry_run_into_a_root_shows_the_config_txt_diff_and_changes_nothing(
        tmp_path: Path) -> None:
    root = make_root(tmp_path)
    before = snapshot(root)
    result = run_installer(ROOT, "--dry-run", "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert "--- a/boot/firmware/config.txt" in result.stdout
    assert "+++ b/boot/firmware/config.txt" in result.stdout
    for line in BLOCK:
        assert f"      +{line}" in result.stdout, f"the diff does not add {line!r}"
    assert "useradd" in result.stdout and "not under --root" in result.stdout
    assert snapshot(root) == before


# --- (b) a real install into a staging root -----------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """(root, checkout, installer output) after one real install with the real venv."""
    base = tmp_path_factory.mktemp("installed")
    checkout = copy_checkout(base / "checkout")
    before = snapshot(checkout)
    root = make_root(base)
    result = run_installer(checkout, "--root", str(root), "--yes")
    assert result.returncode == 0, result.stderr
    assert snapshot(checkout) == before, "the installer wrote into the checkout"
    yield root, checkout, result.stdout


def test_install_puts_every_file_in_place(installed: tuple[Path, Path, str]) -> None:
    root, checkout, _ = installed
    for dest, src in INSTALLED_FROM.items():
        target = root / dest
        assert target.read_bytes() == (checkout / src).read_bytes(), dest
    hook = root / "opt/v2x-controller/libexec/v2x-safe-outputs"
    assert stat.S_IMODE(hook.stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "etc/systemd/system/v2x-controller.service").stat().st_mode) \
        == 0o644


def test_install_puts_the_example_config_and_the_state_directory(
        installed: tuple[Path, Path, str]) -> None:
    root, checkout, _ = installed
    config = root / CONFIG
    assert config.read_bytes() == (checkout / "hw/config.example.toml").read_bytes()
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o750
    state = root / STATE_DIR
    assert state.is_dir() and list(state.iterdir()) == []
    assert stat.S_IMODE(state.stat().st_mode) == 0o750


def test_install_adds_the_boot_block_once_and_keeps_the_rest(
        installed: tuple[Path, Path, str]) -> None:
    root, _, _ = installed
    text = (root / BOOT_CONFIG).read_text(encoding="utf-8")
    assert text.startswith(FIXTURE_CONFIG_TXT), "the existing lines must stay as they were"
    assert block_of(text) == BLOCK


def test_install_builds_a_venv_with_the_package_copied_in(
        installed: tuple[Path, Path, str]) -> None:
    root, _, output = installed
    venv = root / VENV
    assert os.access(venv / "bin" / "v2xctl", os.X_OK)
    assert os.readlink(root / "usr/local/bin/v2xctl") == "/opt/v2x-controller/venv/bin/v2xctl"
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c",
         "import importlib.metadata as m, hal.settings as s; "
         "print(m.version('v2x-controller')); print(s.__file__)"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    version, module_file = probe.stdout.split()
    assert version == "0.1.0"
    # Not an editable install: the service cannot see the checkout (ProtectHome=yes).
    assert module_file.startswith(str(venv)), module_file
    assert "v2xctl doctor" in output and "Reboot" in output


def test_second_install_changes_nothing_and_says_so(installed: tuple[Path, Path, str]) -> None:
    root, checkout, _ = installed
    before = snapshot(root)
    result = run_installer(checkout, "--root", str(root), "--yes")
    assert result.returncode == 0, result.stderr
    assert "Nothing to do" in result.stdout
    assert "  + " not in result.stdout and "==> " not in result.stdout
    assert snapshot(root) == before


def test_lifecycle_keeps_an_existing_config_and_uninstall_keeps_config_and_data(
        tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "checkout")
    root = make_root(tmp_path)
    mine = "# the technician's config\n[hal]\nbackend = \"pi\"\n"
    (root / CONFIG).parent.mkdir(parents=True)
    (root / CONFIG).write_text(mine, encoding="utf-8")

    first = run_installer(checkout, "--root", str(root), "--yes")
    assert first.returncode == 0, first.stderr
    assert (root / CONFIG).read_text(encoding="utf-8") == mine, "an existing config was touched"
    assert "never overwritten" in first.stdout

    (root / STATE_DIR / "state.db").write_bytes(b"latched faults")
    (root / CONFIG).write_text(mine + "# edited again\n", encoding="utf-8")
    before = snapshot(root)
    again = run_installer(checkout, "--root", str(root), "--yes")
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    assert snapshot(root) == before

    removed = run_installer(checkout, "--uninstall", "--root", str(root), "--yes")
    assert removed.returncode == 0, removed.stderr
    for dest in [*INSTALLED_FROM, "usr/local/bin/v2xctl", "opt/v2x-controller"]:
        assert not (root / dest).exists() and not (root / dest).is_symlink(), dest
    assert (root / BOOT_CONFIG).read_text(encoding="utf-8") == FIXTURE_CONFIG_TXT
    assert (root / CONFIG).read_text(encoding="utf-8") == mine + "# edited again\n"
    assert (root / STATE_DIR / "state.db").read_bytes() == b"latched faults"

    twice = run_installer(checkout, "--uninstall", "--root", str(root), "--yes")
    assert twice.returncode == 0 and "Nothing to do" in twice.stdout

    purged = run_installer(checkout, "--uninstall", "--purge", "--root", str(root), "--yes")
    assert purged.returncode == 0, purged.stderr
    assert not (root / CONFIG).parent.exists() and not (root / STATE_DIR).exists()


def test_a_changed_block_is_replaced_in_place(tmp_path: Path) -> None:
    old_block = (f"{BEGIN} (old)\n[all]\n"
                 f"dtoverlay=mcp2515-can0,oscillator=8000000,interrupt=24\n{END}\n")
    root = make_root(tmp_path, FIXTURE_CONFIG_TXT.replace("\n[cm4]", f"\n{old_block}[cm4]"))
    result = run_installer(ROOT, "--root", str(root), "--yes", "--no-venv")
    assert result.returncode == 0, result.stderr
    assert "-dtoverlay=mcp2515-can0,oscillator=8000000,interrupt=24" in result.stdout
    text = (root / BOOT_CONFIG).read_text(encoding="utf-8")
    assert block_of(text) == BLOCK
    assert text.index(BEGIN) < text.index("[cm4]"), "the block moved"


def test_an_unterminated_block_stops_the_installer_before_any_change(tmp_path: Path) -> None:
    root = make_root(tmp_path, FIXTURE_CONFIG_TXT + f"{BEGIN}\ndtparam=spi=on\n")
    before = snapshot(root)
    result = run_installer(ROOT, "--root", str(root), "--yes", "--no-venv")
    assert result.returncode == 2
    assert "fix the block by hand" in result.stderr
    assert snapshot(root) == before


def test_no_answer_changes_nothing(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    before = snapshot(root)
    result = run_installer(ROOT, "--root", str(root), "--no-venv", stdin="n\n")
    assert result.returncode == 1
    assert "[y/N]" in result.stdout and "Nothing was changed" in result.stdout
    assert snapshot(root) == before


# --- the stop hook ------------------------------------------------------------------------------


FAKE_GPIOSET = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) $FAKE_GPIOD_VERSION"; exit 0; fi
echo "$*" >> "$FAKE_GPIO_LOG"
"""
FAKE_GPIODETECT = """#!/bin/sh
echo "gpiochip0 [pinctrl-bcm2711] (58 lines)"
echo "gpiochip1 [raspberrypi-exp-gpio] (8 lines)"
"""


def run_hook(tmp_path: Path, config: Path, python: str, version: str = "v1.6.3"
             ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the hook with fake libgpiod tools; returns the result and the gpioset calls."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    for name, text in (("gpioset", FAKE_GPIOSET), ("gpiodetect", FAKE_GPIODETECT)):
        (fake / name).write_text(text, encoding="utf-8")
        (fake / name).chmod(0o755)
    log = tmp_path / "gpioset.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "V2X_PYTHON": python,
           "FAKE_GPIO_LOG": str(log), "FAKE_GPIOD_VERSION": version}
    result = subprocess.run(["bash", str(ROOT / HOOK), str(config)], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return result, calls


def _coil_groups(hal: HalSettings) -> tuple[list[int], list[int]]:
    contactors = hal.gpio.contactors
    wirings = [getattr(contactors, f.name) for f in dataclasses.fields(contactors)]
    first = sorted(w.coil_pin for w in wirings if not w.normally_closed)
    last = sorted(w.coil_pin for w in wirings if w.normally_closed)
    return first, last


def _v1_call(pins: list[int]) -> str:
    return "--mode=exit gpiochip0 " + " ".join(f"{pin}=0" for pin in pins)


@pytest.mark.parametrize(("version", "form"), [
    ("v1.6.3", "--mode=exit gpiochip0 {}"),          # Bookworm's libgpiod
    ("v2.1.3", "--chip gpiochip0 --toggle 0 {}"),    # Trixie's libgpiod
])
def test_hook_drops_open_contactors_before_k_grid(tmp_path: Path, version: str,
                                                  form: str) -> None:
    result, calls = run_hook(tmp_path, EXAMPLE, sys.executable, version)
    assert result.returncode == 0, result.stderr
    first, last = _coil_groups(HalSettings())
    assert last == [12], "K_GRID is the only normally-closed contactor of the reference build"
    assert calls == [form.format(" ".join(f"{p}=0" for p in pins)) for pins in (first, last)]


def test_hook_follows_the_config_pins(tmp_path: Path) -> None:
    config = tmp_path / "moved.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        "coil_pin = 13 ", "coil_pin = 17 "), encoding="utf-8")
    result, calls = run_hook(tmp_path, config, sys.executable)
    assert result.returncode == 0, result.stderr
    assert calls == [_v1_call([16, 17, 19, 26]), _v1_call([12])]


def test_hook_without_the_package_falls_back_to_the_reference_pins(tmp_path: Path) -> None:
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-I", "-c", "import tomllib, controller"],
                           capture_output=True, check=False) if Path(system_python).exists() \
        else None
    if probe is None or b"No module named 'controller'" not in probe.stderr:
        pytest.skip("needs a system python3 >= 3.11 without the package installed")
    config = tmp_path / "short.toml"
    config.write_text('[hal]\nbackend = "pi"\n[sequence]\ncontactor_timeout_s = 0.05\n',
                      encoding="utf-8")
    result, calls = run_hook(tmp_path, config, system_python)
    assert result.returncode == 0, result.stderr
    assert "config loader failed" in result.stderr
    first, last = _coil_groups(HalSettings())
    assert calls == [_v1_call(first), _v1_call(last)], "the hook's defaults left hal/settings.py"


def test_hook_leaves_a_sim_config_alone(tmp_path: Path) -> None:
    config = tmp_path / "sim.toml"
    config.write_text('[hal]\nbackend = "sim"\n', encoding="utf-8")
    result, calls = run_hook(tmp_path, config, sys.executable)
    assert result.returncode == 0 and calls == []
    assert "backend 'sim'" in result.stderr


def test_hook_fails_loudly_without_a_config(tmp_path: Path) -> None:
    result, calls = run_hook(tmp_path, tmp_path / "missing.toml", sys.executable)
    assert result.returncode == 1 and calls == []
    assert "no output was touched" in result.stderr


# --- the units ---------------------------------------------------------------------------------


needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None,
                                           reason="systemd-analyze is not installed")


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=120, check=False)


@needs_systemd_analyze
def test_every_installed_unit_passes_systemd_analyze_verify(
        installed: tuple[Path, Path, str], tmp_path: Path) -> None:
    root, _, _ = installed
    units = sorted((root / "etc/systemd/system").glob("*.service"))
    assert units, "no unit was installed"
    for unit in units:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text(encoding="utf-8").replace(
            "/opt/v2x-controller/", f"{root}/opt/v2x-controller/"), encoding="utf-8")
        result = _verify(copy)
        assert result.returncode == 0 and result.stderr == "", f"{unit.name}: {result.stderr}"


@needs_systemd_analyze
def test_verify_catches_a_mistyped_key(installed: tuple[Path, Path, str],
                                       tmp_path: Path) -> None:
    root, _, _ = installed
    text = (root / "etc/systemd/system/v2x-controller.service").read_text(encoding="utf-8")
    broken = tmp_path / "v2x-controller.service"
    broken.write_text(text.replace("/opt/v2x-controller/", f"{root}/opt/v2x-controller/")
                      .replace("ProtectHome=yes", "ProtectHme=yes"), encoding="utf-8")
    assert "ProtectHme" in _verify(broken).stderr


@needs_systemd_analyze
def test_service_exposure_is_at_most_2() -> None:
    assert SYSTEMD_ANALYZE is not None
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", str(SERVICE)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    score = float(match.group(1))
    print(f"systemd-analyze security: v2x-controller.service exposure {score} "
          f"(limit {EXPOSURE_LIMIT})")
    assert score <= EXPOSURE_LIMIT


def _unit_values(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_service_can_write_its_store_and_reach_its_devices() -> None:
    unit = _unit_values(SERVICE)
    store = Path(tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["store"]["path"])
    assert unit["StateDirectory"] == [store.parent.name]
    assert store.parent == Path("/var/lib") / store.parent.name
    assert unit["ExecStart"][0].endswith("--config /etc/v2x-controller/config.toml")
    allowed = {entry.split()[0] for entry in unit["DeviceAllow"]}
    assert {"char-gpiochip", "char-i2c"} <= allowed
    assert "AF_CAN" in unit["RestrictAddressFamilies"][0].split()
    assert unit["Type"] == ["notify"] and unit["WatchdogSec"] == ["5s"]


def test_networkd_brings_up_the_config_channels_at_500k() -> None:
    can = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["hal"]["can"]
    for channel in (can["inverter_channel"], can["ev_channel"]):
        network = _unit_values(ROOT / "systemd" / f"80-v2x-{channel}.network")
        assert network["Name"] == [channel]
        assert network["BitRate"] == ["500K"]
        assert network["RequiredForOnline"] == ["no"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shell_scripts_pass_shellcheck() -> None:
    result = subprocess.run(["shellcheck", str(ROOT / INSTALLER), str(ROOT / HOOK)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout


# --- MemoryDenyWriteExecute --------------------------------------------------------------------

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
MDWE_THEN_EXEC = f"""
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) != 0:
    sys.exit(77)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except PermissionError:
    os.execv(sys.argv[1], sys.argv[1:])
sys.exit(78)
"""


def test_the_controller_runs_with_write_xor_execute_memory() -> None:
    """The unit sets MemoryDenyWriteExecute=yes; PR_SET_MDWE is the kernel's own version of it
    (systemd uses it where the kernel has it). The controller must start, run and stop safely."""
    if not hasattr(ctypes, "CDLL") or sys.platform != "linux":
        pytest.skip("Linux only")
    result = subprocess.run(
        [sys.executable, "-c", MDWE_THEN_EXEC, sys.executable, "-m", "controller.cli.main",
         "run", "--duration", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux >= 6.3)")
    assert result.returncode != 78, "W+X memory was not refused: the probe is broken"
    assert result.returncode == 0, result.stderr
    assert "safe shutdown" in result.stdout


# --- issue 17: the UART, the kernel console and the technician port ---------------------------

# A stock Raspberry Pi OS cmdline.txt: the kernel console on serial0 drives TXD (BCM 14).
STOCK_CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
                 "fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles "
                 "cfg80211.ieee80211_regdom=DE\n")
CMDLINE = "boot/firmware/cmdline.txt"
CMDLINE_BACKUP = "boot/firmware/cmdline.txt.v2x-backup"
UART_PINS = {14, 15}  # BCM 14 TXD, 15 RXD: what enable_uart=1 and a serial console take
SPI0_PINS = {7, 8, 9, 10, 11}
I2C1_PINS = {2, 3}
GADGET_MODULES = "etc/modules-load.d/v2x-usb-gadget.conf"
# Boards whose USB-C port can be a USB device (config.txt board-type filters).
GADGET_BOARDS = {"0x11", "0x12", "0x17"}  # Pi 4 Model B, Pi Zero 2 W, Pi 5


def reference_pins() -> tuple[dict[int, str], set[int]]:
    """The reference pin map (the config defaults): pin -> key, and the input pins."""
    hal = HalSettings()
    owners: dict[int, str] = {}
    inputs: set[int] = set()
    for fld in dataclasses.fields(hal.gpio.contactors):
        wiring = getattr(hal.gpio.contactors, fld.name)
        owners[wiring.coil_pin] = f"contactors.{fld.name}.coil_pin"
        owners[wiring.aux_pin] = f"contactors.{fld.name}.aux_pin"
        inputs.add(wiring.aux_pin)
    for fld in dataclasses.fields(hal.gpio.inputs):
        owners[getattr(hal.gpio.inputs, fld.name).pin] = f"inputs.{fld.name}.pin"
        inputs.add(getattr(hal.gpio.inputs, fld.name).pin)
    owners[hal.gpio.watchdog.kick_pin] = "watchdog.kick_pin"
    return owners, inputs


def _gpio_lines(block: list[str]) -> dict[int, str]:
    """``gpio=14,15=ip`` lines: pin -> settings."""
    pins: dict[int, str] = {}
    for line in block:
        if line.startswith("gpio="):
            spec, settings = line[len("gpio="):].split("=", 1)
            for part in spec.split(","):
                low, _, high = part.partition("-")
                for pin in range(int(low), int(high or low) + 1):
                    pins[pin] = settings
    return pins


def test_boot_block_agrees_with_the_reference_pin_map(installed: tuple[Path, Path, str]) -> None:
    root, _, _ = installed
    block = block_of((root / BOOT_CONFIG).read_text(encoding="utf-8"))
    owners, inputs = reference_pins()
    settings = dict(line.split("=", 1) for line in block if "=" in line
                    and not line.startswith(("dtoverlay=", "dtparam=", "gpio=")))
    if UART_PINS & owners.keys():
        assert settings.get("enable_uart") == "0", \
            f"the UART would drive {sorted(UART_PINS & owners.keys())}: " \
            + ", ".join(owners[p] for p in sorted(UART_PINS & owners.keys()))
    overlays = [line.split("=", 1)[1] for line in block if line.startswith("dtoverlay=")]
    for overlay in overlays:
        name, *params = overlay.split(",")
        assert "uart" not in name and not name.endswith("-bt"), f"{overlay} moves a UART"
        for param in params:
            key, _, value = param.partition("=")
            if key in ("interrupt", "gpiopin", "gpio"):
                assert int(value) not in owners, f"{overlay}: GPIO {value} is {owners[int(value)]}"
    params = [line.split("=", 1)[1] for line in block if line.startswith("dtparam=")]
    if "spi=on" in params:
        assert not SPI0_PINS & owners.keys(), "SPI0 takes BCM 7-11"
    if "i2c_arm=on" in params:
        assert not I2C1_PINS & owners.keys(), "I2C1 takes BCM 2 and 3"
    gpio = _gpio_lines(block)
    for pin, value in gpio.items():
        assert pin in inputs and value.split(",")[0] == "ip", \
            f"gpio={pin}={value}: only safety inputs are set, as inputs"
    for pin in sorted(UART_PINS & inputs):
        assert pin in gpio, f"GPIO {pin} ({owners[pin]}) is not made an input at boot"


def test_the_kernel_console_leaves_the_uart_pins(tmp_path: Path) -> None:
    checkout = copy_checkout(tmp_path / "checkout")
    root = make_root(tmp_path)
    (root / CMDLINE).write_text(STOCK_CMDLINE, encoding="utf-8")
    before = snapshot(root)
    dry = run_installer(checkout, "--dry-run", "--root", str(root), "--no-venv")
    assert dry.returncode == 0, dry.stderr
    assert "      -console=serial0,115200 console=tty1" in dry.stdout
    assert "      +console=tty1 root=PARTUUID" in dry.stdout
    assert "cmdline.txt.v2x-backup" in dry.stdout
    assert snapshot(root) == before, "the dry run changed something"
    result = run_installer(checkout, "--root", str(root), "--yes", "--no-venv")
    assert result.returncode == 0, result.stderr
    cmdline = (root / CMDLINE).read_text(encoding="utf-8")
    assert cmdline == STOCK_CMDLINE.replace("console=serial0,115200 ", "")
    assert (root / CMDLINE_BACKUP).read_text(encoding="utf-8") == STOCK_CMDLINE
    again = run_installer(checkout, "--root", str(root), "--yes", "--no-venv")
    assert "Nothing to do" in again.stdout
    assert (root / CMDLINE_BACKUP).read_text(encoding="utf-8") == STOCK_CMDLINE
    (root / CMDLINE).write_text("console=ttyAMA0,115200 " + cmdline, encoding="utf-8")
    run_installer(checkout, "--root", str(root), "--yes", "--no-venv")
    assert (root / CMDLINE).read_text(encoding="utf-8") == cmdline
    assert (root / CMDLINE_BACKUP).read_text(encoding="utf-8") == STOCK_CMDLINE, \
        "the first backup (the original) is kept"


def test_install_sets_up_the_usb_gadget_serial_port(installed: tuple[Path, Path, str]) -> None:
    root, checkout, _ = installed
    lines = (root / BOOT_CONFIG).read_text(encoding="utf-8").splitlines()
    block = block_of("\n".join(lines))
    boards = set()
    for i, line in enumerate(block):
        if line == "dtoverlay=dwc2,dr_mode=peripheral":
            match = re.fullmatch(r"\[board-type=(0x[0-9a-f]+)\]", block[i - 1])
            assert match, "the gadget overlay is limited to boards that support it"
            boards.add(match.group(1))
    assert boards == GADGET_BOARDS
    assert block[-1] == "[all]", "the block must not leave a board filter open"
    modules = (root / GADGET_MODULES).read_text(encoding="utf-8").split()
    assert "g_serial" in modules
    assert (checkout / "hw" / "modules-load.d" / "v2x-usb-gadget.conf").is_file()


def test_a_pin_hash_is_what_the_installer_asks_for(installed: tuple[Path, Path, str]) -> None:
    _, _, output = installed
    assert "v2xctl console hash-pin" in output and "technician_pin_hash" in output
    assert "/dev/ttyGS0" in output


def test_stop_timeout_outlasts_the_longest_configured_shutdown() -> None:
    """v2xctl run's SIGTERM path (Supervisor.shutdown) may take rampdown_timeout_s + 2 x
    contactor_timeout_s + 1 s; systemd must not SIGKILL it before that, at the largest values
    the config accepts, with room to close the store and the buses."""
    from controller.config.model import SequenceSettings
    from hal.config_fields import META_KEY

    def largest(name: str) -> float:
        field = {f.name: f for f in dataclasses.fields(SequenceSettings)}[name]
        return float(field.metadata[META_KEY]["max"])

    bound = largest("rampdown_timeout_s") + 2 * largest("contactor_timeout_s") + 1.0
    stop = _unit_values(SERVICE)["TimeoutStopSec"][0]
    assert stop.endswith("s") and float(stop[:-1]) >= bound + 10.0, \
        f"TimeoutStopSec={stop}: the shutdown may take {bound} s"


def test_the_unit_and_udev_allow_every_kind_of_console_port() -> None:
    unit = _unit_values(SERVICE)
    allowed = {entry.split()[0] for entry in unit["DeviceAllow"]}
    kinds = {"char-ttyS", "char-ttyAMA", "char-ttyGS", "char-ttyUSB", "char-ttyACM"}
    assert kinds <= allowed, f"missing: {sorted(kinds - allowed)}"
    rules = (ROOT / "hw" / "udev" / "60-v2x-controller.rules").read_text(encoding="utf-8")
    for kind in ("ttyUSB", "ttyACM"):
        assert f"{kind}[0-9]*" in rules


def test_boot_block_runs_the_i2c_bus_at_400_khz(installed: tuple[Path, Path, str]) -> None:
    """Issue 20: at the Pi's default 100 kHz the tick's I2C reads take ~6.3 ms of wire time."""
    root, _, _ = installed
    block = block_of((root / BOOT_CONFIG).read_text(encoding="utf-8"))
    params = [line.split("=", 1)[1] for line in block if line.startswith("dtparam=")]
    assert "i2c_arm_baudrate=400000" in params
