"""The AC meter at the point of common coupling (our own eyes on the grid)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AcMeterReading:
    """One reading of the PCC meter, in engineering units.

    Channel A measures the utility feed at the PCC (import positive); channel B measures the PV
    feed-in branch (generation positive). ``frequency_hz`` is ``0.0`` and ``voltage_lost`` is set
    when the meter sees no zero crossings (no voltage). Slow quantities (currents, PV, reactive
    power, energy) may be refreshed less often than every reading (``hal/drivers/ade7953.py``).
    """

    t: float
    voltage_rms_v: float
    frequency_hz: float
    grid_current_rms_a: float
    grid_power_w: float
    grid_reactive_var: float
    pv_current_rms_a: float
    pv_power_w: float
    voltage_lost: bool
    # Added by the measurement issue (defaults keep older constructors valid):
    sag: bool = False  # the meter latched a voltage sag since the previous reading
    over_voltage: bool = False  # the meter latched a peak over-voltage since the previous one
    grid_import_wh: float = 0.0  # channel A energy imported since the driver started
    grid_export_wh: float = 0.0  # channel A energy exported since the driver started
    pv_energy_wh: float = 0.0  # channel B (PV) energy since the driver started


class AcMeter(Protocol):
    """A meter that can be read once per control tick."""

    def read(self) -> AcMeterReading:
        """Read every quantity; raises :class:`hal.errors.SensorFault` after bounded retries."""
        ...

    def close(self) -> None:
        """Release the bus."""
        ...
