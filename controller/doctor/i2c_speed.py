"""The I2C bus clock (issue 20): read from the device tree through sysfs on a Pi.

At the Pi's default 100 kHz the meter and ADC reads of one tick take about 6.3 ms of wire time
(``bench/tick_cpu.py`` counts the bits); ``hw/install.sh`` sets 400 kHz
(``dtparam=i2c_arm_baudrate=400000``), about 1.6 ms. The kernel exposes the adapter's device-tree
node as ``/sys/class/i2c-adapter/i2c-N/of_node``; its ``clock-frequency`` is one big-endian
32-bit cell. Elsewhere (the simulator, a PC, a kernel without the property) the speed is unknown
and the check says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from controller.doctor.report import Check, failed, passed, skipped

SYSFS_ADAPTERS: Final = Path("/sys/class/i2c-adapter")
WANTED_HZ: Final = 400_000
CHECK: Final = "i2c.speed"
HINT: Final = ("set dtparam=i2c_arm_baudrate=400000 in the boot config (hw/install.sh writes it) "
               "and reboot; at 100 kHz the tick's I2C reads take about 6.3 ms of every 20 ms")


def bus_speed_hz(bus: int, adapters: Path = SYSFS_ADAPTERS) -> int | None:
    """The bus clock from the device tree, or ``None`` when it cannot be read."""
    try:
        raw = (adapters / f"i2c-{bus}" / "of_node" / "clock-frequency").read_bytes()
    except OSError:
        return None
    if len(raw) != 4:
        return None
    return int.from_bytes(raw, "big")


def speed_check(bus: int, simulated: bool, adapters: Path = SYSFS_ADAPTERS) -> Check:
    if simulated:
        return skipped(CHECK, "bus speed unknown: the simulated bus has no clock")
    hz = bus_speed_hz(bus, adapters)
    if hz is None:
        return skipped(CHECK, f"bus speed unknown: {adapters}/i2c-{bus}/of_node/clock-frequency "
                       "cannot be read (not a Raspberry Pi, or no device tree)")
    if hz < WANTED_HZ:
        return failed(CHECK, f"/dev/i2c-{bus} runs at {hz / 1000:g} kHz (want "
                      f"{WANTED_HZ // 1000} kHz)", HINT)
    return passed(CHECK, f"/dev/i2c-{bus} runs at {hz / 1000:g} kHz")
