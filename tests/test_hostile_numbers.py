"""Hostile numbers (NaN, inf, huge, negative) are refused at every entry point, naming the key.

A NaN compares false with everything, so a range test `value < low or value > high` lets it
through and a NaN timeout or threshold silently switches a protection off. Every numeric config
key, every numeric scenario field and every numeric command-line argument is tried here; the
lists are generated from the declarations, so a key added later is covered too.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from controller.cli.main import build_parser
from controller.config import load_config
from controller.config.model import Config
from hal.config_fields import META_KEY, describe_range, number_problem
from hal.errors import ConfigError
from simulation.scenarios import kinds
from simulation.scenarios.params import Param
from simulation.scenarios.spec import ScenarioError, parse_scenario

V2XCTL = [sys.executable, "-m", "controller.cli.main"]
NON_FINITE = ("nan", "inf", "-inf")
HUGE = 1e308


@dataclasses.dataclass(frozen=True)
class NumericKey:
    key: str
    kind: type
    low: float | None
    high: float | None
    choices: tuple[object, ...] | None


def _numeric_keys(obj: Any, prefix: str) -> list[NumericKey]:
    out: list[NumericKey] = []
    hints = typing.get_type_hints(type(obj))
    for fld in dataclasses.fields(obj):
        meta = fld.metadata.get(META_KEY, {})
        if meta.get("section"):
            out += _numeric_keys(getattr(obj, fld.name), f"{prefix}{fld.name}.")
            continue
        args = [a for a in typing.get_args(hints[fld.name]) if a is not type(None)]
        kind = args[0] if args else hints[fld.name]
        if kind in (int, float):
            out.append(NumericKey(f"{prefix}{fld.name}", kind, meta.get("min"), meta.get("max"),
                                  meta.get("choices")))
    return out


CONFIG_KEYS = _numeric_keys(Config(), "")


def _toml(key: str, value: str) -> str:
    """A config file that is valid except for ``key = value`` (dotted keys under the table)."""
    table, _, rest = key.partition(".")
    head = '[hal]\nbackend = "sim"\n'
    if table == "hal":
        return f"{head}{rest} = {value}\n"
    return f"{head}[{table}]\n{rest} = {value}\n"


def _config_problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    return info.value.problems


def test_the_model_has_numeric_keys_and_each_a_range_or_choices() -> None:
    assert len(CONFIG_KEYS) > 100
    open_ended = [k.key for k in CONFIG_KEYS
                  if k.choices is None and (k.low is None or k.high is None)]
    assert open_ended == []


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("numeric", CONFIG_KEYS, ids=[k.key for k in CONFIG_KEYS])
def test_every_numeric_config_key_refuses_non_finite(numeric: NumericKey, value: str) -> None:
    found = _config_problems(_toml(numeric.key, value))
    named = [p for p in found if p.startswith(f"{numeric.key} = ")]
    assert len(named) == 1, found
    if numeric.kind is float:  # an integer key refuses a float already by its type
        assert f"{numeric.key} = {value}: not a finite number" in named[0]


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("numeric", CONFIG_KEYS, ids=[k.key for k in CONFIG_KEYS])
def test_every_numeric_config_key_refuses_huge_values(numeric: NumericKey, sign: int) -> None:
    value = repr(sign * HUGE) if numeric.kind is float else str(sign * 10**18)
    found = _config_problems(_toml(numeric.key, value))
    named = [p for p in found if p.startswith(f"{numeric.key} = ")]
    assert len(named) == 1, found
    assert "None" not in named[0]


def test_negative_where_the_range_starts_at_zero() -> None:
    found = _config_problems(_toml("protection.dc_overvoltage_margin_v", "-1"))
    assert found == ["protection.dc_overvoltage_margin_v = -1.0: out of range, allowed 0.0 to "
                     "100.0 V"]


@pytest.mark.parametrize("key", ["protection.inverter_status_timeout_s",
                                 "protection.dc_overvoltage_margin_v",
                                 "safety.plausibility.power_tolerance_w",
                                 "safety.loop.max_tick_s",
                                 "safety.temperature.inlet_stop_c",
                                 "control.tick_s"])
def test_the_reported_nan_settings_are_refused(key: str) -> None:
    """Issue 15.2: each of these, set to nan, used to load and switch a protection off."""
    found = _config_problems(_toml(key, "nan"))
    assert any(p.startswith(f"{key} = nan: not a finite number") for p in found), found


def test_nan_in_a_list_of_numbers_is_named() -> None:
    found = _config_problems('[hal]\nbackend = "sim"\n[control]\ntick_s = [nan]\n')
    assert found and found[0].startswith("control.tick_s = [nan]")


# --- scenarios ------------------------------------------------------------------------------


def _scenario_fields() -> list[tuple[str, str, str, Param]]:
    """(table, kind, key, spec) for every numeric field of the scenario format."""
    out: list[tuple[str, str, str, Param]] = []
    numeric = (int, float)
    out += [("scenario", "", k, s) for k, s in kinds.SCENARIO.items() if s.kind in numeric]
    out += [("plant", "", k, s) for k, s in kinds.PLANT.items() if s.kind in numeric]
    for kind, params in kinds.EVENTS.items():
        merged = {**kinds.COMMON_EVENT, **params}
        out += [("events", kind, k, s) for k, s in merged.items() if s.kind in numeric]
    for kind, params in kinds.EXPECTS.items():
        merged = {**kinds.COMMON_EXPECT, **params}
        out += [("expect", kind, k, s) for k, s in merged.items() if s.kind in numeric]
    return out


SCENARIO_FIELDS = _scenario_fields()


def _scenario_with(table: str, kind: str, key: str, value: object) -> dict[str, Any]:
    data: dict[str, Any] = {"scenario": {"name": "n", "duration_s": 10.0}}
    if table == "scenario":
        data["scenario"][key] = value
    elif table == "plant":
        data["plant"] = {key: value}
    elif table == "events":
        data["events"] = [{"at_s": 1.0, "kind": kind, key: value}]
    else:
        data["expect"] = [{"kind": kind, key: value}]
    return data


def _scenario_problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    return info.value.problems


def _field_id(field: tuple[str, str, str, Param]) -> str:
    table, kind, key, _ = field
    return f"{table}.{kind}.{key}" if kind else f"{table}.{key}"


def _prefix(table: str, key: str) -> str:
    return f"{table}.{key}" if table in ("scenario", "plant") else f"{table}[0].{key}"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")],
                         ids=NON_FINITE)
@pytest.mark.parametrize("field", SCENARIO_FIELDS, ids=[_field_id(f) for f in SCENARIO_FIELDS])
def test_every_numeric_scenario_field_refuses_non_finite(
        field: tuple[str, str, str, Param], value: float) -> None:
    table, kind, key, spec = field
    found = _scenario_problems(_scenario_with(table, kind, key, value))
    named = [p for p in found if p.startswith(f"{_prefix(table, key)} = ")]
    assert len(named) == 1, found
    if spec.kind is float:
        assert ": not a finite number" in named[0], named


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("field", SCENARIO_FIELDS, ids=[_field_id(f) for f in SCENARIO_FIELDS])
def test_every_numeric_scenario_field_refuses_huge_values(
        field: tuple[str, str, str, Param], sign: int) -> None:
    table, kind, key, spec = field
    value: float | int = sign * HUGE if spec.kind is float else sign * 10**18
    found = _scenario_problems(_scenario_with(table, kind, key, value))
    named = [p for p in found if p.startswith(f"{_prefix(table, key)} = ")]
    assert len(named) == 1, found
    assert "None" not in named[0]


def test_every_numeric_scenario_field_has_an_upper_bound() -> None:
    assert [_field_id(f) for f in SCENARIO_FIELDS
            if f[3].choices is None and f[3].max is None] == []


@pytest.mark.parametrize("head", [{"duration_s": float("nan")}, {"tick_s": float("nan")},
                                  {"sample_s": float("nan")}])
def test_reported_nan_scenario_heads_are_invalid(head: dict[str, float]) -> None:
    """Issue 15.2: `duration_s = nan` ran 0 s and passed; `tick_s = nan` hung the run."""
    data = {"scenario": {"name": "n", "duration_s": 10.0, **head}}
    found = _scenario_problems(data)
    assert any("not a finite number" in p for p in found), found


# --- the command line -----------------------------------------------------------------------


def _numeric_options(parser: argparse.ArgumentParser,
                     path: list[str]) -> list[tuple[list[str], argparse.Action]]:
    out: list[tuple[list[str], argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _numeric_options(sub, [*path, name])
        elif action.option_strings and action.type is not None and action.nargs != 0:
            try:
                numeric = isinstance(action.type("1"), int | float)  # type: ignore[operator]
            except (ValueError, TypeError, argparse.ArgumentTypeError):
                continue
            if numeric:
                out.append((path, action))
    return out


CLI_OPTIONS = _numeric_options(build_parser(), [])


def test_there_are_numeric_cli_options() -> None:
    assert {a.option_strings[-1] for _, a in CLI_OPTIONS} >= {"--duration", "--speed", "--cost"}


@pytest.mark.parametrize("value", [*NON_FINITE, "1e400", "-1e400"])
@pytest.mark.parametrize("option", CLI_OPTIONS,
                         ids=[" ".join([*p, a.option_strings[-1]]) for p, a in CLI_OPTIONS])
def test_every_numeric_cli_option_refuses_hostile_numbers(
        option: tuple[list[str], argparse.Action], value: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path, action = option
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*path, f"{action.option_strings[-1]}={value}"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert action.option_strings[-1] in err and value in err, err


@pytest.mark.parametrize("value", ["-1", "0", "-0.0"])
@pytest.mark.parametrize("option", ["--duration", "--speed"])
def test_run_times_and_speeds_must_be_positive(option: str, value: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["run", f"{option}={value}"])
    assert info.value.code == 2
    assert f"{option}: '{value}' must be greater than 0" in capsys.readouterr().err


def test_run_duration_nan_exits_2_with_a_line() -> None:
    """Issue 15.2: `--duration nan` used to exit 0 at once."""
    result = subprocess.run([*V2XCTL, "run", "--duration", "nan"], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "--duration: 'nan' is not a finite number" in result.stderr
    assert "t=" not in result.stdout


# --- end to end: a NaN protection setting can no longer switch a protection off ------------


def test_nan_protection_setting_is_refused_so_nothing_runs(tmp_path: Path) -> None:
    path = tmp_path / "nan.toml"
    path.write_text('[hal]\nbackend = "sim"\n[protection]\ninverter_status_timeout_s = nan\n')
    result = subprocess.run([*V2XCTL, "run", "--config", str(path), "--duration", "3",
                             "--speed", "10"], capture_output=True, text=True, timeout=120,
                            check=False, env={**os.environ})
    assert result.returncode == 2, result.stdout
    assert ("config error: protection.inverter_status_timeout_s = nan: not a finite number"
            in result.stderr)
    assert "t=" not in result.stdout  # the loop never started: nothing was energised


SILENCE = """
[scenario]
name = "nan-timeout"
duration_s = 10

[config.protection]
inverter_status_timeout_s = nan

[[events]]
at_s = 0
kind = "request"
mode = "charge"

[[events]]
at_s = 8
id = "silence"
kind = "fault"
name = "inverter_silence"

[[expect]]
kind = "trip"
function = "INVERTER_COMM_LOST"
after_event = "silence"
within_s = 0.2
"""


def test_nan_inverter_timeout_in_a_scenario_is_an_invalid_file(tmp_path: Path) -> None:
    """Before: the run went ahead and INVERTER_COMM_LOST never tripped (exit 1)."""
    path = tmp_path / "nan.toml"
    path.write_text(SILENCE)
    result = subprocess.run([*V2XCTL, "sim", str(path), "--quiet"], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 2, result.stdout
    assert (f"{path}: config.protection.inverter_status_timeout_s = nan: not a finite number"
            in result.stderr)
    with_default = path.with_name("default.toml")
    with_default.write_text(SILENCE.replace("inverter_status_timeout_s = nan", ""))
    result = subprocess.run([*V2XCTL, "sim", str(with_default), "--quiet"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout  # the same file with the default trips


@pytest.mark.parametrize(("low", "high", "words"), [
    (0.0, 5.0, "0.0 to 5.0 s"), (0.0, None, "at least 0.0 s"), (None, 5.0, "at most 5.0 s"),
    (None, None, "any finite number")])
def test_range_words_never_say_none(low: float | None, high: float | None, words: str) -> None:
    assert describe_range(low, high, "s") == words
    assert number_problem(float("nan"), low, high, "s") == (
        "not a finite number" + (f" (allowed {words})" if words != "any finite number" else ""))
