"""Config loading: every problem named once, with the key, the bad value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config import load_config, load_config_file, parse_config
from controller.config.reference import config_reference
from hal.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    return info.value.problems


def test_minimal_file_needs_only_the_backend() -> None:
    config = load_config('[hal]\nbackend = "sim"\n')
    assert config.hal.backend == "sim"
    assert config.control.tick_s == 0.02


def test_backend_is_required_in_a_file() -> None:
    assert problems("[control]\ntick_s = 0.05\n") == [
        "hal.backend: required key is missing (one of 'sim', 'pi')"
    ]


def test_unknown_key_wrong_type_and_out_of_range_are_all_named() -> None:
    found = problems(
        '[hal]\nbackend = "pi"\nbackned = "sim"\n'
        '[limits]\nmax_charge_power_w = "11 kW"\n'
        "[control]\ntick_s = 5\n"
    )
    assert len(found) == 3
    assert any(p.startswith("hal.backned: unknown key") and "backend" in p for p in found)
    assert any(p.startswith("limits.max_charge_power_w = '11 kW': wrong type str, expected number")
               for p in found)
    assert "control.tick_s = 5.0: out of range, allowed 0.005 to 1.0 s" in found


def test_bad_choice_lists_the_choices() -> None:
    assert problems('[hal]\nbackend = "arduino"\n') == [
        "hal.backend = 'arduino': must be one of 'sim', 'pi'"
    ]


def test_booleans_are_not_numbers_and_numbers_not_booleans() -> None:
    found = problems('[hal]\nbackend = "sim"\n[control]\ntick_s = true\n'
                     "[hal.gpio.contactors.dc]\nnormally_closed = 1\n")
    assert "control.tick_s = True: wrong type bool, expected number" in found
    assert "hal.gpio.contactors.dc.normally_closed = 1: wrong type int, expected boolean" in found


def test_a_value_where_a_table_belongs() -> None:
    assert "hal = 'sim': must be a table ([hal])" in problems('hal = "sim"\n')


def test_contradictions_are_errors() -> None:
    found = problems(
        '[hal]\nbackend = "pi"\n'
        "[hal.gpio.contactors.ac]\ncoil_pin = 5\n"  # K_GRID's coil pin
        '[hal.can]\nev_channel = "can0"\n'
        "[grid]\nnominal_frequency_hz = 50\n"  # the 60 Hz window no longer contains it
        "[protection]\nfrequency_min_hz = 58.5\n"
    )
    assert any("GPIO 5 is used twice" in p for p in found)
    assert any(p.startswith("hal.can.ev_channel = 'can0': must differ") for p in found)
    assert any("window must contain grid.nominal_frequency_hz = 50.0 Hz" in p for p in found)


def test_fifty_hertz_defaults_follow_the_nominal() -> None:
    config = load_config('[hal]\nbackend = "sim"\n[grid]\nnominal_frequency_hz = 50\n'
                         "nominal_voltage_v = 230\n")
    assert config.protection.frequency_window_hz(50.0) == (48.5, 51.2)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config_file(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[hal\nbackend = 'sim'\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_file(broken)


def test_config_is_frozen() -> None:
    config = parse_config({})
    with pytest.raises(AttributeError):
        config.control.tick_s = 1.0  # type: ignore[misc]


def test_docs_config_reference_is_in_sync() -> None:
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert doc == config_reference(), "regenerate with: ./dev v2xctl config doc > docs/config.md"


def test_lists_of_strings() -> None:
    config = load_config('[hal]\nbackend = "sim"\n[hal.serial]\nports = ["/dev/serial0"]\n')
    assert config.hal.serial.ports == ("/dev/serial0",)
    assert problems('[hal]\nbackend = "sim"\n[hal.serial]\nports = "/dev/serial0"\n') == [
        "hal.serial.ports = '/dev/serial0': wrong type str, expected list of string"
    ]
    assert problems('[hal]\nbackend = "sim"\n[hal.serial]\nports = [1]\n') == [
        "hal.serial.ports = [1]: wrong type list, expected list of string"
    ]


def test_store_retention_limits_are_whole_numbers_in_their_ranges() -> None:
    """[store] keep_* bound the state database (controller/store/retention.py): a fraction, a
    non-finite or a boolean is the wrong type; zero, negative and huge counts are out of range."""
    assert problems('[hal]\nbackend = "sim"\n[store]\nkeep_events = 1.5\nkeep_audit = -1\n'
                    "keep_cleared_faults = nan\nkeep_calibrations = 10000000000\n") == [
        "store.keep_events = 1.5: wrong type float, expected integer",
        "store.keep_cleared_faults = nan: wrong type float, expected integer",
        "store.keep_audit = -1: out of range, allowed 1000 to 1000000 rows",
        "store.keep_calibrations = 10000000000: out of range, allowed 10 to 100000 rows",
    ]
    assert problems('[hal]\nbackend = "sim"\n[store]\nkeep_events = "lots"\nkeep_audit = inf\n'
                    "keep_cleared_faults = 0\nkeep_calibrations = true\n") == [
        "store.keep_events = 'lots': wrong type str, expected integer",
        "store.keep_cleared_faults = 0: out of range, allowed 100 to 1000000 rows",
        "store.keep_audit = inf: wrong type float, expected integer",
        "store.keep_calibrations = True: wrong type bool, expected integer",
    ]
    config = load_config('[hal]\nbackend = "sim"\n[store]\nkeep_events = 1000\n')
    assert (config.store.keep_events, config.store.keep_audit) == (1000, 50_000)
