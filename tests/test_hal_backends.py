"""Backend selection and the devices each backend builds."""

from __future__ import annotations

import dataclasses

import pytest

from controller.config.loader import parse_config
from hal.backend_io import BackendIo
from hal.errors import BackendUnavailableError, HalSetupError
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


def test_every_contactor_and_input_of_the_config_is_built() -> None:
    config = parse_config({})
    charger = Charger()
    try:
        assert set(charger.hw.contactors) == {"grid", "ac", "v2l", "dc", "precharge"}
        assert set(charger.hw.inputs) == {"estop", "door", "ev_present", "rcm_ok", "imd_ok",
                                          "dc_alert", "ev_permission", "ev_locked"}
        assert set(charger.hw.outputs) == {"ev_d1", "ev_d2", "ev_lock"}
        assert set(charger.hw.adc.channels) == {"dc_link_v", "ev_inlet_v", "dc_current_a"}
        assert charger.hw.contactors["grid"].normally_closed
        assert config.hal.backend == "sim"
    finally:
        charger.close()



def test_the_simulated_world_is_reached_through_its_typed_handle_only_in_the_simulator() -> None:
    charger = Charger()
    try:
        io = simulated(charger.hw)
        assert io.world.contactor_closed("grid")  # K_GRID is normally closed
        other = BackendIo(name="pi", description="a Raspberry Pi", clock=charger.hw.clock,
                          i2c_name="/dev/i2c-1", pin_factory=object, open_smbus=io.open_smbus,
                          open_can=io.open_can, serial_path=str)
        with pytest.raises(HalSetupError, match="not the simulator: a Raspberry Pi"):
            simulated(dataclasses.replace(charger.hw, io=other, description="a Raspberry Pi"))
    finally:
        charger.close()


# The contract of each device over both backends (and the Pi's own run): tests/test_hal_contract.py
