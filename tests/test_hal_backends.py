"""Backend selection and the devices each backend builds."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from controller.config.loader import parse_config
from hal.errors import BackendUnavailableError
from hal.registry import BACKEND_MODULES, open_backend
from hal.settings import HalSettings
from hal.sim.backend import simulated
from harness import Charger


def test_unknown_backend_is_refused_not_replaced() -> None:
    with pytest.raises(BackendUnavailableError, match="unknown HAL backend 'arduino'"):
        open_backend(HalSettings(backend="arduino"))


def test_a_backend_module_that_cannot_be_imported_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKEND_MODULES, "sim", "hal.sim.no_such_module")
    with pytest.raises(BackendUnavailableError, match=r"cannot import hal\.sim\.no_such_module"):
        open_backend(HalSettings(backend="sim"))


def test_sim_serves_console_ports_on_real_ptys(make_charger: Callable[..., Charger]) -> None:
    charger = make_charger({"hal": {"serial": {"ports": ["/dev/serial0"]}}})
    pair = simulated(charger.hw).ptys["/dev/serial0"]
    port = charger.hw.serial["/dev/serial0"]
    assert pair.path.startswith("/dev/pts/")
    os.write(pair.master_fd, b"status\r\n")
    assert port.read(64) == b"status\r\n"
    assert port.write(b"ok\r\n") == 4
    assert os.read(pair.master_fd, 64) == b"ok\r\n"
    assert port.read(64) == b""  # never blocks


def test_every_contactor_and_input_of_the_config_is_built() -> None:
    config = parse_config({})
    charger = Charger()
    try:
        assert set(charger.hw.contactors) == {"grid", "ac", "v2l", "dc", "precharge"}
        assert set(charger.hw.inputs) == {"estop", "door", "ev_present", "rcm_ok", "imd_ok"}
        assert set(charger.hw.adc.channels) == {"dc_link_v", "ev_inlet_v", "dc_current_a"}
        assert charger.hw.contactors["grid"].normally_closed
        assert config.hal.backend == "sim"
    finally:
        charger.close()


@pytest.mark.pi
@pytest.mark.skipif(os.environ.get("V2X_TEST_PI") != "1",
                    reason="needs Raspberry Pi hardware; run with V2X_TEST_PI=1 on the Pi")
def test_pi_backend_opens_the_reference_build() -> None:  # pragma: no cover - hardware only
    hardware = open_backend(parse_config({"hal": {"backend": "pi"}}).hal)
    try:
        assert all(not c.commanded_closed or c.normally_closed
                   for c in hardware.contactors.values())
        reading = hardware.meter.read()
        assert reading.voltage_rms_v >= 0.0
    finally:
        hardware.close()
