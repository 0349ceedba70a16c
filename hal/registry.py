"""Backends by name, imported lazily: ``hal.backend = "sim" | "pi"``.

A missing backend is a :class:`BackendUnavailableError` naming the module and the cause. There is
no fallback: asking for ``pi`` on a machine without the hardware fails; it never quietly becomes
the simulator.
"""

from __future__ import annotations

import importlib
from typing import Any

from hal.errors import BackendUnavailableError
from hal.interfaces.hardware import Hardware
from hal.settings import HalSettings

BACKEND_MODULES = {
    "sim": "hal.sim.backend",
    "pi": "hal.pi.backend",
}


def open_backend(settings: HalSettings, **options: Any) -> Hardware:
    """Import the configured backend and build every device; setup errors propagate."""
    module_name = BACKEND_MODULES.get(settings.backend)
    if module_name is None:
        known = ", ".join(sorted(BACKEND_MODULES))
        raise BackendUnavailableError(
            f"unknown HAL backend {settings.backend!r} (known: {known})"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise BackendUnavailableError(
            f"HAL backend {settings.backend!r} is unavailable: cannot import {module_name}: {err}"
        ) from err
    hardware: Hardware = module.build(settings, **options)
    return hardware
