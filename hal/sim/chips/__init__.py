"""Register-level models of the I2C chips, served by :class:`hal.sim.i2c_bus.SimSMBus`."""

from __future__ import annotations

from hal.sim.chips.ade7953_model import Ade7953Model
from hal.sim.chips.ads1115_model import Ads1115Model
from hal.sim.chips.ina228_model import Ina228Model

__all__ = ["Ade7953Model", "Ads1115Model", "Ina228Model"]
