"""Backends by name, imported lazily: ``hal.backend = "sim" | "pi"``.

A backend module supplies only its I/O primitives (``open_io(settings, **options)``, a
:class:`hal.backend_io.BackendIo`); :func:`open_backend` builds the devices on them with the one
assembly (``hal/assembly.py``).

A missing backend is a :class:`BackendUnavailableError` naming the module and the cause. There is
no fallback: asking for ``pi`` on a machine without the hardware fails; it never quietly becomes
the simulator.
"""

from __future__ import annotations

import importlib
from typing import Any

from hal.assembly import assemble
from hal.backend_io import BackendIo
from hal.errors import BackendUnavailableError
from hal.interfaces.hardware import Hardware
from hal.settings import HalSettings

BACKEND_MODULES = {
    "sim": "hal.sim.backend",
    "pi": "hal.pi.backend",
}


def open_io(settings: HalSettings, **options: Any) -> BackendIo:
    """Import the configured backend and return its primitives (nothing is opened yet)."""
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
    io: BackendIo = module.open_io(settings, **options)
    return io


def open_backend(settings: HalSettings, **options: Any) -> Hardware:
    """Build every device of the configured backend; setup errors propagate."""
    return assemble(settings, open_io(settings, **options))
