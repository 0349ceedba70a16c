"""Backend selection and the devices each backend builds."""

from __future__ import annotations

import pytest

from controller.config.loader import parse_config
from hal.errors import BackendUnavailableError
from hal.registry import BACKEND_MODULES, open_backend
from hal.settings import HalSettings
from harness import Charger


def test_unknown_backend_is_refused_not_replaced() -> None:
    with pytest.raises(BackendUnavailableError, match="unknown HAL backend 'arduino'"):
        open_backend(HalSettings(backend="arduino"))


def test_a_backend_module_that_cannot_be_imported_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKEND_MODULES, "sim", "hal.sim.no_such_module")
    with pytest.raises(BackendUnavailableError, match=r"cannot import hal\.sim\.no_such_module"):
        open_backend(HalSettings(backend="sim"))


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


# The contract of each device over both backends (and the Pi's own run): tests/test_hal_contract.py
