"""The config: read and validated, every problem listed; or the built-in simulator without one."""

from __future__ import annotations

from dataclasses import dataclass

from controller.config.loader import load_config_file, parse_config
from controller.config.model import Config
from controller.doctor.report import Check, failed, passed
from hal.errors import ConfigError

NAME = "config"


@dataclass(frozen=True)
class LoadedConfig:
    config: Config | None
    check: Check


def load(path: str | None) -> LoadedConfig:
    """Load ``path`` (None: the built-in simulated charger, as ``v2xctl run`` does)."""
    if path is None:
        config = parse_config({})
        return LoadedConfig(config, passed(
            NAME, "no config given: checking the built-in simulated charger (sim backend)"))
    try:
        config = load_config_file(path)
    except ConfigError as err:
        count = len(err.problems)
        return LoadedConfig(None, failed(
            NAME, f"{path}: {count} problem{'s' if count != 1 else ''}, listed below",
            f"fix each problem (`v2xctl config check {path}` lists them one per line; "
            "docs/config.md lists every key, unit and range); nothing else can be checked "
            "without a valid config", items=err.problems))
    return LoadedConfig(config, passed(NAME, f"{path}: valid (backend {config.hal.backend})"))
