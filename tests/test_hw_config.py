"""The reference build's documents agree with the code.

``hw/config.example.toml`` must load, select the ``pi`` backend and spell out the reference-build
values (the config defaults); the pin map in ``hw/README.md`` must list exactly the pins of the
config, each with the same key, function, direction and idle level.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from controller.config import Config, load_config_file
from hal.config_fields import META_KEY
from hal.settings import ContactorWiring, HalSettings, InputWiring

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "hw" / "config.example.toml"
README = ROOT / "hw" / "README.md"
PIN_MAP_HEADING = "## Pin map"
STORE_PATH = "/var/lib/v2x-controller/state.db"

# The 40-pin header: BCM number -> physical pin (the same on every 40-pin Raspberry Pi).
HEADER_PIN = {
    2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33,
    14: 8, 15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18,
    25: 22, 26: 37, 27: 13,
}
# Whether each input is active with the charger idle (no EV, door closed, E-stop loop healthy).
INPUT_ACTIVE_AT_IDLE = {"estop": True, "door": True, "ev_present": False, "rcm_ok": True,
                        "imd_ok": True}


@dataclass(frozen=True)
class PinRow:
    bcm: int
    header_pin: int
    key: str
    function: str
    direction: str
    idle_level: str


def _section_doc(parent: Any, name: str) -> str:
    field = next(f for f in dataclasses.fields(parent) if f.name == name)
    return str(field.metadata[META_KEY]["doc"])


def expected_rows(hal: HalSettings) -> dict[int, PinRow]:
    """The pin map the config implies, by BCM number.

    Function labels come from the config's own section docs: the contactor's name before the
    first comma ("K_GRID") plus "coil"/"aux", or the input's description before the colon.
    """
    rows: dict[int, PinRow] = {}
    contactors = hal.gpio.contactors
    for fld in dataclasses.fields(contactors):
        wiring: ContactorWiring = getattr(contactors, fld.name)
        label = _section_doc(contactors, fld.name).split(",")[0].strip()
        key = f"hal.gpio.contactors.{fld.name}"
        assert wiring.coil_pin is not None
        rows[wiring.coil_pin] = PinRow(wiring.coil_pin, HEADER_PIN[wiring.coil_pin],
                                       f"{key}.coil_pin", f"{label} coil", "output", "low")
        if wiring.aux_pin is not None:
            closed_at_idle = wiring.normally_closed  # every coil is off at idle
            high = closed_at_idle == wiring.aux_closed_high
            rows[wiring.aux_pin] = PinRow(wiring.aux_pin, HEADER_PIN[wiring.aux_pin],
                                          f"{key}.aux_pin", f"{label} aux", "input",
                                          "high" if high else "low")
    inputs = hal.gpio.inputs
    for fld in dataclasses.fields(inputs):
        inp: InputWiring = getattr(inputs, fld.name)
        label = _section_doc(inputs, fld.name).split(":")[0].strip()
        assert inp.pin is not None
        high = INPUT_ACTIVE_AT_IDLE[fld.name] == inp.active_high
        rows[inp.pin] = PinRow(inp.pin, HEADER_PIN[inp.pin], f"hal.gpio.inputs.{fld.name}.pin",
                               label, "input", "high" if high else "low")
    kick = hal.gpio.watchdog.kick_pin  # toggled once per healthy tick, also at idle
    rows[kick] = PinRow(kick, HEADER_PIN[kick], "hal.gpio.watchdog.kick_pin",
                        "External watchdog kick", "output", "toggling")
    return rows


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_pin_map(markdown: str) -> list[PinRow]:
    """The first Markdown table after the "Pin map" heading, one row per pin."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == PIN_MAP_HEADING)
    table: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    header = [cell.lower() for cell in _cells(table[0])]
    assert re.fullmatch(r"\|[-| :]+\|", table[1].strip()), "second table line is not a rule"
    column = {name: header.index(name) for name in
              ("bcm", "header pin", "config key", "function", "direction", "idle level")}
    rows = []
    for line in table[2:]:
        cells = _cells(line)
        assert len(cells) == len(header), f"pin map row has {len(cells)} cells: {line}"
        rows.append(PinRow(
            bcm=int(cells[column["bcm"]]),
            header_pin=int(cells[column["header pin"]]),
            key=cells[column["config key"]].strip("`"),
            function=cells[column["function"]],
            direction=cells[column["direction"]].lower(),
            idle_level=cells[column["idle level"]].lower(),
        ))
    return rows


# --- (a) the example loads, selects pi and spells out the reference build -------------------


@pytest.fixture(scope="module")
def example() -> Config:
    return load_config_file(EXAMPLE)


def test_example_loads_with_the_pi_backend(example: Config) -> None:
    assert example.hal.backend == "pi"
    assert example.store.path == STORE_PATH


def test_example_wiring_is_the_reference_build(example: Config) -> None:
    assert dataclasses.replace(example.hal, backend="sim") == HalSettings()


def test_example_application_settings_are_the_defaults(example: Config) -> None:
    defaults = Config()
    for fld in dataclasses.fields(Config):
        if fld.name in ("hal", "store"):
            continue
        if fld.name == "control_socket":  # the Pi's socket path; the rest are the defaults
            assert example.control_socket.path == "/run/v2x-control/control.sock"
            assert dataclasses.replace(example.control_socket, path="") == \
                defaults.control_socket, fld.name
            continue
        assert getattr(example, fld.name) == getattr(defaults, fld.name), fld.name


def _leaf_keys(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for fld in dataclasses.fields(obj):
        value = getattr(obj, fld.name)
        if fld.metadata.get(META_KEY, {}).get("section"):
            out += _leaf_keys(value, f"{prefix}{fld.name}.")
        else:
            out.append((f"{prefix}{fld.name}", value))
    return out


def _lookup(data: dict[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_example_writes_out_every_key() -> None:
    """Keys with a value are set explicitly; optional keys (no default) appear as comments."""
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for dotted, default in _leaf_keys(Config()):
        name = dotted.rsplit(".", 1)[1]
        if default is None:
            assert re.search(rf"^#\s*{name}\s*=", text, re.MULTILINE), f"{dotted} not shown"
        else:
            assert _lookup(data, dotted), f"{dotted} is not set in {EXAMPLE.name}"


def test_example_comments_every_key() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "[")):
            continue
        previous = lines[number - 1].strip() if number else ""
        assert "#" in stripped or previous.startswith("#"), (
            f"{EXAMPLE.name} line {number + 1} has no comment: {stripped}"
        )


# --- (b) the README's pin map agrees with the config -----------------------------------------


def test_pin_map_matches_the_config() -> None:
    rows = parse_pin_map(README.read_text(encoding="utf-8"))
    by_bcm = {row.bcm: row for row in rows}
    assert len(by_bcm) == len(rows), "a BCM pin appears twice in the pin map"
    expected = expected_rows(load_config_file(EXAMPLE).hal)
    assert expected == expected_rows(HalSettings())
    assert sorted(by_bcm) == sorted(expected), "pin map and config list different pins"
    for bcm, want in expected.items():
        got = by_bcm[bcm]
        assert got.key == want.key, f"BCM {bcm}"
        assert got.header_pin == want.header_pin, f"BCM {bcm}: header pin"
        assert got.function.lower().startswith(want.function.lower()), (
            f"BCM {bcm}: function {got.function!r} should start with {want.function!r}"
        )
        assert got.direction == want.direction, f"BCM {bcm}: direction"
        assert got.idle_level.startswith(want.idle_level), f"BCM {bcm}: idle level"


def test_pin_map_parser_sees_a_wrong_pin() -> None:
    text = README.read_text(encoding="utf-8")
    broken = text.replace("| 12 | 32 | `hal.gpio.contactors.grid.coil_pin`",
                          "| 22 | 15 | `hal.gpio.contactors.grid.coil_pin`")
    assert broken != text
    pins = {row.bcm for row in parse_pin_map(broken)}
    assert pins != set(expected_rows(HalSettings()))


# --- (c) the CLI accepts the example -----------------------------------------------------------


def _config_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controller.cli.main", "config", "check", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


def test_config_check_accepts_the_example() -> None:
    result = _config_check(EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "valid (backend pi)" in result.stdout


def test_config_check_rejects_a_mistyped_copy(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("coil_pin = 19", "coil_pn = 19"),
                   encoding="utf-8")
    result = _config_check(bad)
    assert result.returncode == 2
    assert "hal.gpio.contactors.dc.coil_pn: unknown key" in result.stderr


# --- (c) a console port nobody can log into is refused on the Pi -------------------------------


TECHNICIAN_PIN = "24680135"


def _with_console(technician_hash: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("\nports = []") == 1 and text.count('technician_pin_hash = ""') == 1
    text = text.replace("\nports = []", '\nports = ["/dev/ttyGS0"]')
    return text.replace('technician_pin_hash = ""', f'technician_pin_hash = "{technician_hash}"')


def test_a_console_port_without_a_technician_pin_is_refused(tmp_path: Path) -> None:
    """The console is the only reset path: a port whose technician cannot log in would leave a
    latched fault uncleared on a real charger."""
    config = tmp_path / "config.toml"
    config.write_text(_with_console(""), encoding="utf-8")
    result = _config_check(config)
    assert result.returncode == 2
    assert "console.technician_pin_hash: empty while hal.serial.ports serves" in result.stderr
    assert "v2xctl console hash-pin" in result.stderr


def test_a_console_port_with_a_technician_pin_is_accepted(tmp_path: Path) -> None:
    hashed = subprocess.run(
        [sys.executable, "-m", "controller.cli.main", "console", "hash-pin", "--stdin"],
        input=TECHNICIAN_PIN + "\n", cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=True).stdout.strip()
    config = tmp_path / "config.toml"
    config.write_text(_with_console(hashed), encoding="utf-8")
    result = _config_check(config)
    assert result.returncode == 0, result.stderr
    assert load_config_file(config).hal.serial.ports == ("/dev/ttyGS0",)
