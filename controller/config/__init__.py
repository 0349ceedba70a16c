"""TOML config -> frozen typed objects. Unknown keys, wrong types and bad ranges are errors."""

from controller.config.loader import load_config, load_config_file, parse_config
from controller.config.model import Config

__all__ = ["Config", "load_config", "load_config_file", "parse_config"]
