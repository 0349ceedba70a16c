"""Wire protocols shared by the controller and the simulated peers: DBC files, codecs, E2E checks.

The DBC files in this package are the single source of truth for every CAN frame; both the
controller's links and the simulator's inverter and EV load them with cantools.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def dbc_path(name: str) -> Path:
    """Filesystem path of the packaged DBC file ``<name>.dbc`` (``inverter`` or ``chademo``)."""
    ref = resources.files(__name__).joinpath(f"{name}.dbc")
    path = Path(str(ref))
    if not path.is_file():
        raise FileNotFoundError(f"DBC file {name}.dbc is not packaged in {__name__}")
    return path
