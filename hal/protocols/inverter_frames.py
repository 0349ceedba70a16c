"""The inverter protocol's frame IDs, settings pages and decoded frame types (``inverter.dbc``).

Shared by the codec (``hal/protocols/inverter_codec.py``), the controller's inverter link and
the simulated inverter: which setting travels in which signal of which page is declared here
once, for both directions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final

from hal.errors import ProtocolError
from hal.protocols.inverter_messages import (
    InverterCommand,
    InverterSettings,
    InverterState,
    RideThroughCategory,
)

COUNTER_MASK: Final = 0x0F  # the alive counter is the low nibble of byte 0 in every frame
INV_CMD_ID: Final = 0x100
INV_STATUS_ID: Final = 0x180
INV_STATUS2_ID: Final = 0x181
INV_FAULT_ID: Final = 0x182
STATUS_FRAME_IDS: Final = (INV_STATUS_ID, INV_STATUS2_ID, INV_FAULT_ID)

INV_SET_VOLT_ID: Final = 0x110
INV_SET_FREQ_ID: Final = 0x111
INV_SET_CTRL_ID: Final = 0x112
INV_RB_VOLT_ID: Final = 0x190
INV_RB_FREQ_ID: Final = 0x191
INV_RB_CTRL_ID: Final = 0x192
SETTINGS_WRITE_IDS: Final = (INV_SET_VOLT_ID, INV_SET_FREQ_ID, INV_SET_CTRL_ID)  # send order
SETTINGS_READBACK_IDS: Final = (INV_RB_VOLT_ID, INV_RB_FREQ_ID, INV_RB_CTRL_ID)  # send order
SETTINGS_FRAME_IDS: Final = (*SETTINGS_WRITE_IDS, *SETTINGS_READBACK_IDS)
SETTINGS_COMMIT_IDS: Final = (INV_SET_CTRL_ID, INV_RB_CTRL_ID)  # the last frame of a set
READBACK_OFFSET: Final = INV_RB_VOLT_ID - INV_SET_VOLT_ID  # read-back ID = write ID + 0x80

# Trip elements per multiplexed frame, in page order; the field of InverterSettings is
# "<element>_<unit>" for the threshold and "<element>_clearing_time_s" for the clearing time.
TRIP_ELEMENTS: Final[Mapping[int, tuple[str, ...]]] = {
    INV_SET_VOLT_ID: ("ov2", "ov1", "uv1", "uv2"),
    INV_SET_FREQ_ID: ("of2", "of1", "uf1", "uf2"),
}
_THRESHOLD_UNIT: Final = {INV_SET_VOLT_ID: "pu", INV_SET_FREQ_ID: "hz"}
# INV_SET_CTRL / INV_RB_CTRL: InverterSettings field -> DBC signal.
CTRL_SIGNALS: Final[Mapping[str, str]] = {
    "ride_through_category": "RideThroughCat",
    "anti_islanding": "AntiIslanding",
    "anti_islanding_gain": "AntiIslandingGain",
    "ramp_rate_w_per_s": "RampRate",
    "command_timeout_s": "CommandTimeout",
}
SETTINGS_SLOTS: Final = (
    *((INV_SET_VOLT_ID, page) for page in range(4)),
    *((INV_SET_FREQ_ID, page) for page in range(4)),
    (INV_SET_CTRL_ID, 0),
)  # (write frame ID, page) of the nine frames of one settings set, in send order



@dataclass(frozen=True, slots=True)
class CommandFrame:
    """A decoded INV_CMD."""

    counter: int
    command: InverterCommand


@dataclass(frozen=True, slots=True)
class StatusFrame:
    """A decoded INV_STATUS (fast, 20 ms)."""

    counter: int
    state: InverterState
    dc_voltage_v: float
    dc_current_a: float
    ac_power_w: float
    synced: bool = False


@dataclass(frozen=True, slots=True)
class Status2Frame:
    """A decoded INV_STATUS2 (AC side and temperature, 100 ms)."""

    counter: int
    ac_voltage_v: float
    ac_frequency_hz: float
    reactive_power_var: float
    temperature_c: float


@dataclass(frozen=True, slots=True)
class FaultFrame:
    """A decoded INV_FAULT (100 ms)."""

    counter: int
    fault_word: int
    warning_word: int


InverterStatusFrame = StatusFrame | Status2Frame | FaultFrame


@dataclass(frozen=True, slots=True)
class SettingsFrame:
    """A decoded settings write (INV_SET_*) or read-back (INV_RB_*) frame: one page of a set.

    ``values`` pairs :class:`InverterSettings` field names with their wire values (the category
    and the anti-islanding bit as numbers; :meth:`InverterCodec.assemble_settings` types them).
    """

    frame_id: int
    counter: int
    page: int
    values: tuple[tuple[str, float], ...]

    @property
    def readback(self) -> bool:
        """True for an INV_RB_* frame (sent by the inverter)."""
        return self.frame_id in SETTINGS_READBACK_IDS

    @property
    def slot(self) -> tuple[int, int]:
        """(write frame ID, page): the same for a write frame and its read-back."""
        base = self.frame_id - READBACK_OFFSET if self.readback else self.frame_id
        return base, self.page

    @property
    def commits(self) -> bool:
        """True for the CTRL frame, the last of a settings set."""
        return self.frame_id in SETTINGS_COMMIT_IDS


def threshold_field(write_id: int, element: str) -> str:
    return f"{element}_{_THRESHOLD_UNIT[write_id]}"


def clearing_field(element: str) -> str:
    return f"{element}_clearing_time_s"


SETTINGS_FIELDS: Final = tuple(f.name for f in fields(InverterSettings))


def _write_id(frame_id: int) -> int:
    """The write frame ID of a settings write or read-back frame."""
    return frame_id - READBACK_OFFSET if frame_id in SETTINGS_READBACK_IDS else frame_id


def settings_signals(frame_id: int, page: int,
                     settings: InverterSettings) -> list[tuple[str, str, float]]:
    """(field, DBC signal, wire value) of ``page`` of settings frame ``frame_id``."""
    write_id = _write_id(frame_id)
    if write_id == INV_SET_CTRL_ID:
        if page != 0:
            raise ProtocolError(f"0x{frame_id:03X} has no page {page}")
        named: list[tuple[str, str, float]] = []
        for field_name, signal in CTRL_SIGNALS.items():
            raw = getattr(settings, field_name)
            named.append((field_name, signal,
                          float(int(raw)) if isinstance(raw, bool | int) else raw))
        return named
    elements = TRIP_ELEMENTS[write_id]
    if not 0 <= page < len(elements):
        raise ProtocolError(f"0x{frame_id:03X} has no page {page}")
    element = elements[page]
    upper = element.upper()
    threshold = threshold_field(write_id, element)
    clearing = clearing_field(element)
    return [(threshold, f"{upper}_Threshold", getattr(settings, threshold)),
            (clearing, f"{upper}_ClearTime", getattr(settings, clearing))]


def settings_pairs(frame_id: int, page: int,
                   signals: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """(field, value) of a decoded settings frame's ``page`` from its signal values."""
    write_id = _write_id(frame_id)
    if write_id == INV_SET_CTRL_ID:
        return tuple((field_name, signals[signal]) for field_name, signal in CTRL_SIGNALS.items())
    element = TRIP_ELEMENTS[write_id][page]
    upper = element.upper()
    return ((threshold_field(write_id, element), signals[f"{upper}_Threshold"]),
            (clearing_field(element), signals[f"{upper}_ClearTime"]))


def assemble_settings(values: Mapping[str, float]) -> InverterSettings:
    """Typed settings from the field values of a complete set (every field present)."""
    missing = [name for name in SETTINGS_FIELDS if name not in values]
    if missing:
        raise ProtocolError(f"incomplete settings: missing {', '.join(missing)}")
    typed: dict[str, object] = {name: float(values[name]) for name in SETTINGS_FIELDS}
    typed["ride_through_category"] = RideThroughCategory(int(values["ride_through_category"]))
    typed["anti_islanding"] = bool(values["anti_islanding"])
    return InverterSettings(**typed)  # type: ignore[arg-type]
