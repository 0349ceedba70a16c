"""The gateway is a separate process: it never imports the controller or the simulator, and
the controller never imports the gateway (ARCHITECTURE.md section 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_layering import ROOT, imports, sources

FORBIDDEN_IN_GATEWAY = ("controller", "hal.sim", "hal.pi", "gpiozero", "smbus2", "can",
                        "serial", "lgpio")


def _hits(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports(path)
                  if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", sources("gateway"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_gateway_never_imports_the_controller_or_hardware(path: Path) -> None:
    bad = _hits(path, FORBIDDEN_IN_GATEWAY)
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: only the control socket"


@pytest.mark.parametrize("path", sources("controller") + sources("hal"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_controller_never_imports_the_gateway(path: Path) -> None:
    bad = _hits(path, ("gateway", "aiomqtt", "paho"))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
