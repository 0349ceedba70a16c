"""The ``sim`` backend: the primitives of a simulated charger; the production devices on them.

The controller gets exactly what the ``pi`` backend gives it (``hal/assembly.py`` builds the
same gpiozero devices, the ADE7953 and ADS1115 drivers on an SMBus-compatible bus, python-can
links), only the far side is simulated: the pin factory is the world's ``MockFactory``, the
SMBus is the world's chip models, the CAN channels are python-can virtual buses and each
console port is a pty. :func:`simulated` is the typed handle to the world behind a built
:class:`Hardware` (tests, scenarios, the doctor's training faults).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hal.backend_io import BackendIo
from hal.can_link import PythonCanLink
from hal.errors import HalSetupError
from hal.i2c import SMBusLike
from hal.interfaces.can_link import CanLink
from hal.interfaces.clock import Clock
from hal.interfaces.hardware import Hardware
from hal.settings import HalSettings
from hal.sim.can_bus import open_sim_bus
from hal.sim.clock import DEFAULT_EPOCH, PacedClock, VirtualClock
from hal.sim.i2c_bus import FAULT_ABSENT, SimSMBus
from hal.sim.params import PlantParams
from hal.sim.pty_ports import PtyPair
from hal.sim.world import SimWorld

DESCRIPTION = ("built-in simulated charger (sim backend: plant physics, ADE7953/ADS1115 register "
               "models, inverter and EV on python-can virtual buses)")


class _SharedSMBus:
    """A handle on the world's SMBus: closing it leaves the bus to the world that owns it."""

    def __init__(self, smbus: SimSMBus) -> None:
        self.i2c_rdwr = smbus.i2c_rdwr
        self.read_i2c_block_data = smbus.read_i2c_block_data
        self.write_i2c_block_data = smbus.write_i2c_block_data

    def close(self) -> None:
        """Nothing to release: the world closes its bus."""


@dataclass
class SimIo(BackendIo):
    """The simulator's primitives, with the world behind them and each console port's pty."""

    world: SimWorld = field(kw_only=True)
    ptys: dict[str, PtyPair] = field(kw_only=True, default_factory=dict)

    def pty(self, device: str) -> PtyPair:
        """The pty standing in for console port ``device`` (created on first use)."""
        pair = self.ptys.get(device)
        if pair is None:
            pair = self.ptys[device] = PtyPair()
            self.on_close.append(pair.close)
        return pair


def open_io(settings: HalSettings, *, plant: PlantParams | None = None,
            speed: float | None = None, absent_i2c: Sequence[int] = (),
            start_epoch: float = DEFAULT_EPOCH, **_ignored: object) -> SimIo:
    """A simulated world and its primitives. ``speed`` paces it against wall time (``None``:
    flat out). ``absent_i2c``: chip addresses that do not answer from the start (a missing chip
    is a ``HalSetupError`` naming bus, address and chip, before any output exists).
    ``start_epoch``: the virtual clock's wall time at its start (a restart some time later)."""
    virtual = VirtualClock(start_epoch)
    world = SimWorld(settings, plant or PlantParams(), virtual)
    clock: Clock = virtual if speed is None else PacedClock(virtual, speed)
    for address in absent_i2c:
        world.smbus.inject(address, FAULT_ABSENT)

    def open_smbus() -> SMBusLike:
        return _SharedSMBus(world.smbus)

    def open_can(role: str) -> CanLink:
        return PythonCanLink(open_sim_bus(world.can_channels[role]), name=f"sim-{role}")

    io = SimIo(name="sim", description=DESCRIPTION, clock=clock, i2c_name="sim-i2c",
               pin_factory=lambda: world.factory, open_smbus=open_smbus, open_can=open_can,
               serial_path=lambda device: io.pty(device).path,
               open_terminal=lambda device: (io.ptys[device].open_terminal()
                                             if device in io.ptys else None),
               on_close=[world.close], world=world)
    return io


def simulated(hardware: Hardware) -> SimIo:
    """The simulated world behind ``hardware``; an error for any other backend."""
    if not isinstance(hardware.io, SimIo):
        raise HalSetupError(f"not the simulator: {hardware.description}")
    return hardware.io
