"""Generate the config reference (``docs/config.md``) from the config dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any

from controller.config.model import Config
from hal.config_fields import META_KEY

HEADER = """# Configuration reference

Generated from `controller/config/model.py` and `hal/settings.py` by `v2xctl config doc`; a test
fails when this file and the code differ. The config file is TOML (UTF-8, no byte order mark).
Unknown keys, wrong types, numbers that are not finite (`nan`, `inf`, `-inf`: a NaN would pass
every range test and switch its protection off), values out of range and contradictory settings
are errors at load (`v2xctl config check FILE` lists every problem, one per line, and exits 2).
Units are in the key names and in the Unit column. Keys marked **required** must be present in
every config file; their default applies only to the built-in simulated charger that `v2xctl run`
starts when no config is given.

A commented example for a real Raspberry Pi is in `hw/config.example.toml`.
"""


def _allowed(meta: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return "`true`, `false`"
    if meta.get("choices") is not None:
        return ", ".join(f"`{c!r}`" if isinstance(c, str) else f"`{c}`" for c in meta["choices"])
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return "any text" if isinstance(value, str) else "any"
    return f"{low} to {high}"


def _default(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def _emit(obj: Any, name: str, doc: str, out: list[str]) -> None:
    leaves: list[str] = []
    subsections: list[tuple[Any, str, str]] = []
    for fld in dataclasses.fields(obj):
        meta = fld.metadata.get(META_KEY, {})
        value = getattr(obj, fld.name)
        if meta.get("section"):
            subsections.append((value, f"{name}.{fld.name}", meta["doc"]))
            continue
        req = " **required**" if meta.get("required") else ""
        leaves.append(f"| `{fld.name}`{req} | {meta.get('unit') or '-'} | {_default(value)} | "
                      f"{_allowed(meta, value)} | {meta['doc']} |")
    if leaves:
        out.append(f"\n## `[{name}]`\n\n{doc[:1].upper() + doc[1:]}.\n")
        out.append("| Key | Unit | Default | Allowed | Meaning |")
        out.append("|---|---|---|---|---|")
        out.extend(leaves)
    for value, sub_name, sub_doc in subsections:
        _emit(value, sub_name, sub_doc, out)


def config_reference() -> str:
    """The whole reference document as Markdown."""
    out = [HEADER.rstrip()]
    root = Config()
    for fld in dataclasses.fields(root):
        meta = fld.metadata[META_KEY]
        _emit(getattr(root, fld.name), fld.name, meta["doc"], out)
    return "\n".join(out) + "\n"
