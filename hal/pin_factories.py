"""gpiozero pin factories by name, each constructed explicitly: ``lgpio`` on a Raspberry Pi.

gpiozero's own default (``Device._default_pin_factory``, a private function) tries lgpio,
rpigpio, pigpio and native pins in turn and honours ``GPIOZERO_PIN_FACTORY``, so a Pi with a
broken lgpio, or a shell with ``GPIOZERO_PIN_FACTORY=mock`` left in it, would quietly drive
nothing. That is a silent fallback, and the architecture forbids it: here a name maps to one
class, the class is constructed directly, and any failure is a :class:`HalSetupError` naming the
cause. The simulator's ``MockFactory`` is not in this table: the simulated world owns its own
(``hal/sim/world.py``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from hal.errors import BackendUnavailableError, HalSetupError

PI_PIN_FACTORY: Final = "lgpio"
PIN_FACTORY_ENV: Final = "GPIOZERO_PIN_FACTORY"
DEVICE_TREE_MODEL: Final = Path("/proc/device-tree/model")

PIN_FACTORIES: Final = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory"),
}


def is_raspberry_pi(model_file: Path = DEVICE_TREE_MODEL) -> bool:
    """The device tree names the board on every Raspberry Pi ("Raspberry Pi 4 Model B ...")."""
    try:
        return "Raspberry Pi" in model_file.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False


def refuse_other_factories(name: str, environ: Mapping[str, str]) -> None:
    """``GPIOZERO_PIN_FACTORY`` naming another factory than ``name`` is an error, not a choice.

    The variable does not change what this backend constructs, but a value like ``mock`` says
    that whoever started the controller expected something else than real pins: refuse to start
    rather than let that expectation and the hardware disagree.
    """
    wanted = environ.get(PIN_FACTORY_ENV, "").strip()
    if wanted and wanted.lower() != name:
        raise HalSetupError(
            f"{PIN_FACTORY_ENV}={wanted} is set, but hal.backend = \"pi\" drives the real pins "
            f"through {name} only and never another pin factory; unset {PIN_FACTORY_ENV} "
            "(a simulated charger is hal.backend = \"sim\")")


def open_pin_factory(name: str, *, environ: Mapping[str, str] | None = None,
                     model_file: Path = DEVICE_TREE_MODEL) -> Any:
    """Construct the pin factory called ``name``; the caller closes it."""
    entry = PIN_FACTORIES.get(name)
    if entry is None:
        known = ", ".join(sorted(PIN_FACTORIES))
        raise BackendUnavailableError(f"unknown pin factory {name!r} (known: {known})")
    refuse_other_factories(name, os.environ if environ is None else environ)
    module_name, class_name = entry
    try:
        factory_class = getattr(importlib.import_module(module_name), class_name)
        return factory_class()
    except Exception as err:  # ImportError without lgpio; OSError/RuntimeError without gpiochip
        if not is_raspberry_pi(model_file):  # off a Pi the cause is always "no Pi"
            raise HalSetupError(
                f"this is not a Raspberry Pi ({model_file} names none), so the 'pi' backend "
                "has no GPIO; use hal.backend = \"sim\" off the Pi") from err
        raise HalSetupError(
            f"cannot open the {name} GPIO pin factory ({type(err).__name__}: {err}); on a "
            "Raspberry Pi install the 'pi' extra (lgpio) and run as a user in the gpio group"
        ) from err
