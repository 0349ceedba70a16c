"""`v2xctl doctor`: every check passes on the simulator, each planted fault fails its own check with
a hint (and the others are still reported), a bad config exits 2, and nothing is ever energised."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from controller.cli.main import main
from controller.doctor import Outcome, Report, run_doctor
from controller.doctor.can_checks import parse_ip_details
from controller.doctor.environment import satisfies
from controller.doctor.host_checks import parse_runtime_watchdog, serial_check, state_dir_check
from hal.backend_io import BackendIo
from hal.errors import HalSetupError
from hal.interfaces.hardware import Hardware
from hal.settings import HalSettings
from hal.sim.backend import simulated
from hal.sim.world import SimWorld

V2XCTL = [sys.executable, "-m", "controller.cli.main"]
CHECKS = (
    "python", "package.gpiozero", "package.python-can", "package.cantools", "package.smbus2",
    "package.numpy", "package.transitions", "package.pyserial", "config", "backend",
    "gpio.claim", "input.estop", "input.door", "input.ev_present", "contactor.grid",
    "contactor.ac", "contactor.v2l", "contactor.dc", "contactor.precharge", "i2c.meter",
    "i2c.adc", "i2c.expander", "i2c.speed", "dc.fast_alert", "can.inverter", "can.ev",
    "inverter.answers",
    "serial.ports", "state.dir", "watchdog",
)
OUTCOMES = tuple(o.value for o in Outcome)


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*V2XCTL, "doctor", *args], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, **(env or {})})


def check_lines(stdout: str) -> dict[str, tuple[str, str]]:
    """``{name: (outcome, detail)}`` from the printed check lines."""
    found: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        if line[:4] in OUTCOMES:
            outcome, name, detail = line.split(maxsplit=2)
            found[name] = (outcome, detail)
    return found


def world_of(hardware: Hardware) -> SimWorld:
    return simulated(hardware).world


def outcomes(report: Report) -> dict[str, Outcome]:
    return {c.name: c.outcome for c in report.checks}


def test_doctor_on_the_simulator_passes_every_check() -> None:
    result = doctor()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = check_lines(result.stdout)
    assert tuple(lines) == CHECKS
    for name, (outcome, detail) in lines.items():
        assert outcome in ("PASS", "SKIP"), (name, outcome, detail)
        assert detail.strip(), f"{name}: no detail or reason"
    assert lines["i2c.meter"] == ("PASS", "ADE7953 at 0x38 on /dev/i2c-1 (simulated) answered, "
                                          "version 0x02")
    assert lines["inverter.answers"][1].startswith("INV_STATUS after")
    assert "hint:" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("doctor: 30 checks, ")


def test_missing_meter_fails_its_check_with_bus_and_address_and_reports_the_rest() -> None:
    report = run_doctor(prepare=lambda hw: world_of(hw).smbus.inject(0x38, "absent"))
    meter = report.get("i2c.meter")
    assert meter.outcome is Outcome.FAIL
    assert "0x38" in meter.hint and "/dev/i2c-1" in meter.hint
    assert "i2cdetect -y 1" in meter.hint
    assert report.exit_code == 1
    assert [c.name for c in report.failures] == ["i2c.meter"]
    assert tuple(c.name for c in report.checks) == CHECKS  # nothing stopped at the failure
    found = outcomes(report)
    assert found["i2c.adc"] is Outcome.PASS
    assert found["inverter.answers"] is Outcome.PASS
    assert found["input.estop"] is Outcome.PASS


def test_pressed_estop_fails_the_estop_check() -> None:
    report = run_doctor(prepare=lambda hw: world_of(hw).press_estop())
    estop = report.get("input.estop")
    assert estop.outcome is Outcome.FAIL
    assert "OPEN" in estop.detail and "E-stop" in estop.hint
    assert [c.name for c in report.failures] == ["input.estop"]
    assert report.exit_code == 1


def test_welded_contactor_is_named() -> None:
    def weld(hardware: Hardware) -> None:
        world_of(hardware).contactors["dc"].welded = True
        hardware.clock.sleep_until(hardware.clock.now() + 0.1)  # the plant closes it

    report = run_doctor(prepare=weld)
    assert [c.name for c in report.failures] == ["contactor.dc"]
    assert "K_DC" in report.get("contactor.dc").detail
    assert "weld" in report.get("contactor.dc").detail


def test_silent_inverter_fails_after_listening() -> None:
    report = run_doctor(prepare=lambda hw: world_of(hw).inverter_port.inject("silence"))
    check = report.get("inverter.answers")
    assert check.outcome is Outcome.FAIL
    assert "within 0.5 s" in check.detail and "candump" in check.hint
    assert outcomes(report)["can.inverter"] is Outcome.PASS


def test_doctor_never_energises_anything() -> None:
    seen: dict[str, object] = {}

    def watch(hardware: Hardware) -> None:
        world = world_of(hardware)
        coils = world.hal.gpio.contactors
        seen["world"] = world
        seen["coils"] = {f.name: world.factory.pin(getattr(coils, f.name).coil_pin)
                         for f in dataclasses.fields(coils)}
        world.press_estop()  # a failing run must energise nothing either
        world.smbus.inject(0x48, "absent")

    report = run_doctor(prepare=watch)
    assert report.exit_code == 1
    world = cast(SimWorld, seen["world"])
    for name, pin in cast(dict[str, object], seen["coils"]).items():
        history = [state.state for state in pin.states]  # type: ignore[attr-defined]
        assert history and not any(history), f"coil of {name} was driven: {history}"
    assert world.truth.of_kind("contactor") == []  # no contactor ever moved
    assert world.inverter_port.accepted_commands == 0  # the inverter was only listened to
    assert world.inverter_port.accepted_settings == 0
    assert world.contactors["grid"].operations == 0
    assert not world.factory.pins  # the hardware was closed: every pin released


def test_sim_backend_that_does_not_build_skips_each_device_with_the_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> Hardware:
        raise HalSetupError("ADE7953 on I2C sim-i2c address 0x38: no answer to VERSION")

    monkeypatch.setattr("controller.doctor.runner.open_backend", broken)
    report = run_doctor()
    assert report.exit_code == 1
    assert [c.name for c in report.failures] == ["backend"]
    assert "0x38" in report.get("backend").detail
    device_checks = CHECKS[CHECKS.index("gpio.claim"):CHECKS.index("serial.ports")]
    for name in device_checks:
        if name == "dc.fast_alert":  # a verdict on the config, reported with or without devices
            continue
        check = report.get(name)
        assert check.outcome is Outcome.SKIP, name
        assert "did not build" in check.detail, (name, check.detail)


def test_sim_fault_option_for_training() -> None:
    result = doctor("--sim-fault", "meter_absent", "--sim-fault", "door_open")
    assert result.returncode == 1
    lines = check_lines(result.stdout)
    assert lines["i2c.meter"][0] == "FAIL" and lines["input.door"][0] == "FAIL"
    assert "hint: nothing usable answered at 0x38 on /dev/i2c-1" in result.stdout
    assert lines["i2c.adc"][0] == "PASS"


def test_sim_fault_refused_for_real_hardware(tmp_path: Path) -> None:
    path = tmp_path / "pi.toml"
    path.write_text('[hal]\nbackend = "pi"\n')
    result = doctor("--config", str(path), "--sim-fault", "meter_absent")
    assert result.returncode == 2
    assert "simulator-only" in result.stderr


def test_config_with_an_error_exits_2_and_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[hal]\nbackend = "sim"\n[control]\ntick_s = 9\n')
    result = doctor("--config", str(path))
    assert result.returncode == 2
    assert check_lines(result.stdout)["config"][0] == "FAIL"
    assert "- control.tick_s = 9.0: out of range, allowed 0.005 to 1.0 s" in result.stdout
    assert "backend" not in check_lines(result.stdout)  # nothing was opened


def test_unreadable_config_exits_2(tmp_path: Path) -> None:
    result = doctor("--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2
    assert "no such file" in result.stdout


def test_pi_devices_opened_one_by_one_use_the_backends_own_assembly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pi's primitives with gpiozero's mock pins put in by hand (no Pi here): the pins are
    claimed one by one through the same assembly, the missing bus and CAN fail on their own."""
    from gpiozero.pins.mock import MockFactory

    import hal.pi.backend

    def mock_pins(settings: HalSettings, **options: object) -> BackendIo:
        io = hal.pi.backend.open_io(settings, environ={})
        return dataclasses.replace(io, pin_factory=MockFactory)

    monkeypatch.setattr("controller.doctor.pi_devices.open_io", mock_pins)
    path = tmp_path / "pi.toml"
    path.write_text('[hal]\nbackend = "pi"\n[hal.i2c]\nbus = 29\n'
                    '[hal.can]\ninverter_channel = "v2xnone0"\nev_channel = "v2xnone1"\n'
                    f'[store]\npath = "{tmp_path / "state.db"}"\n')
    report = run_doctor(str(path))
    assert report.get("backend").outcome is Outcome.FAIL
    claim = report.get("gpio.claim")
    assert claim.outcome is Outcome.PASS and "claimed one by one" in claim.detail
    assert report.get("input.estop").outcome is not Outcome.SKIP
    assert "/dev/i2c-29" in report.get("i2c.meter").detail
    assert report.get("can.ev").outcome is Outcome.FAIL


def test_pi_backend_that_does_not_build_is_checked_device_by_device(tmp_path: Path) -> None:
    """No Pi here, and gpiozero's mock pins asked for by the variable (refused: no GPIO); the
    I2C bus and CAN are missing. Every device still gets its own line, not only the first."""
    path = tmp_path / "pi.toml"
    path.write_text('[hal]\nbackend = "pi"\n[hal.i2c]\nbus = 29\n'
                    '[hal.can]\ninverter_channel = "v2xnone0"\nev_channel = "v2xnone1"\n'
                    f'[store]\npath = "{tmp_path / "state.db"}"\n')
    result = doctor("--config", str(path), env={"GPIOZERO_PIN_FACTORY": "mock"})
    assert result.returncode == 1
    lines = check_lines(result.stdout)
    assert tuple(lines) == CHECKS
    assert lines["backend"][0] == "FAIL"
    assert lines["gpio.claim"][0] == "FAIL"
    assert "- GPIOZERO_PIN_FACTORY=mock is set" in result.stdout
    assert lines["input.estop"][0] == "SKIP" and lines["contactor.dc"][0] == "SKIP"
    for chip, address in (("i2c.meter", "0x38"), ("i2c.adc", "0x48")):
        assert lines[chip][0] == "FAIL" and address in lines[chip][1]
    assert "/dev/i2c-29" in lines["i2c.meter"][1]
    assert lines["can.inverter"] == ("FAIL", "v2xnone0: no such network interface")
    assert lines["can.ev"] == ("FAIL", "v2xnone1: no such network interface")
    assert lines["inverter.answers"][0] == "SKIP"
    assert lines["state.dir"][0] == "PASS"
    assert result.stdout.count("hint:") == sum(1 for o, _ in lines.values() if o == "FAIL")


def test_state_dir_check(tmp_path: Path) -> None:
    limit = 30_000_000  # the database at its [store] limits
    assert state_dir_check(":memory:", limit).outcome is Outcome.SKIP
    assert state_dir_check(str(tmp_path / "state.db"), limit).outcome is Outcome.PASS
    missing = state_dir_check(str(tmp_path / "nope" / "state.db"), limit)
    assert missing.outcome is Outcome.FAIL and "install -d" in missing.hint
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            assert state_dir_check(str(locked / "state.db"), limit).outcome is Outcome.FAIL
        finally:
            locked.chmod(0o700)
    assert list(tmp_path.glob(".v2x-doctor-*")) == []  # the probe file is gone


def test_ip_details_parser() -> None:
    text = json.dumps([{"ifname": "can0", "operstate": "UP", "linkinfo": {
        "info_kind": "can", "info_data": {"state": "ERROR-ACTIVE", "restart_ms": 100,
                                          "bittiming": {"bitrate": 500000, "sample_point":
                                                        "0.875"}}}}])
    assert parse_ip_details(text) == ("ERROR-ACTIVE", 500000)
    assert parse_ip_details("[]") == ("", None)


@pytest.mark.parametrize(("text", "expected"), [
    ("RuntimeWatchdogUSec=15s\n", "15s"),
    ("RuntimeWatchdogUSec=0\n", None),
    ("RuntimeWatchdogUSec=infinity\n", "infinity"),
    ("", None),
])
def test_runtime_watchdog_parser(text: str, expected: str | None) -> None:
    assert parse_runtime_watchdog(text) == expected


@pytest.mark.parametrize(("version", "spec", "ok"), [
    ("2.0.1.post3", ">=2.0.1.post3", True),
    ("2.0.1", ">=2.0.1.post3", False),
    ("4.6.1", "<5,>=4.6", True),
    ("5.0", "<5,>=4.6", False),
    ("0.10.0", ">=0.9.2,<0.10", False),
    ("1.24", ">=1.24", True),
    ("1.24rc1", ">=1.24", False),
])
def test_version_requirements(version: str, spec: str, ok: bool) -> None:
    assert satisfies(version, spec) is ok


def test_doctor_help_hides_the_training_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: v2xctl doctor" in out and "--config" in out
    assert "--sim-fault" not in out


def test_every_check_is_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "doctor.md").read_text()
    for name in CHECKS:
        group = name.split(".")[0]
        assert f"`{name}`" in text or f"`{group}.<name>`" in text, name


def test_a_missing_console_port_points_to_the_gadget_port_not_the_uart(tmp_path: Path) -> None:
    """BCM 14/15 are rcm_ok/imd_ok in the reference wiring: doctor must not advise enabling the
    UART (issue 17: wiring, config, installer and docs agree)."""
    check = serial_check((str(tmp_path / "ttyGS0"),), simulated=False, opened={})
    assert "enable_uart=1" not in check.hint
    assert "/dev/ttyGS0" in check.hint and "not the UART" in check.hint


def test_bus_speed_is_read_from_the_device_tree_or_reported_unknown(tmp_path: Path) -> None:
    from controller.doctor.i2c_speed import speed_check

    node = tmp_path / "i2c-1" / "of_node"
    assert speed_check(1, False, tmp_path).outcome is Outcome.SKIP  # no file: unknown
    assert "unknown" in speed_check(1, False, tmp_path).detail
    node.mkdir(parents=True)
    (node / "clock-frequency").write_bytes((100_000).to_bytes(4, "big"))
    slow = speed_check(1, False, tmp_path)
    assert slow.outcome is Outcome.FAIL and "100 kHz" in slow.detail
    assert "i2c_arm_baudrate=400000" in slow.hint
    (node / "clock-frequency").write_bytes((400_000).to_bytes(4, "big"))
    assert speed_check(1, False, tmp_path).outcome is Outcome.PASS
    assert "unknown" in speed_check(1, True, tmp_path).detail  # the simulator


def test_state_dir_check_fails_without_room_for_the_database_at_its_limits(
        tmp_path: Path) -> None:
    """A disk that cannot hold the database at its [store] limits fills one day, and a store
    write that fails is STORE_WRITE_FAILED: the doctor says so before it happens."""
    path = tmp_path / "state.db"
    path.write_bytes(b"\0" * 4096)
    free = shutil.disk_usage(tmp_path).free
    roomy = state_dir_check(str(path), 4096 + 1_000_000)
    assert roomy.outcome is Outcome.PASS and "MB free" in roomy.detail
    cramped = state_dir_check(str(path), free + 10**9)
    assert cramped.outcome is Outcome.FAIL and "too little space" in cramped.detail
    assert "keep_" in cramped.hint and "STORE_WRITE_FAILED" in cramped.hint
