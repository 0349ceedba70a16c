"""Several ADC-like chips presented as one :class:`AdcDevice` (the ADS1115 plus the optional
INA228): one ``poll`` per tick polls each, and their channels form one mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from hal.errors import V2xError
from hal.interfaces.adc import AdcChannel, AdcDevice


class AdcGroup(AdcDevice):
    """Polls every device even when one fails, then raises the first failure."""

    def __init__(self, devices: Sequence[AdcDevice]) -> None:
        merged: dict[str, AdcChannel] = {}
        for device in devices:
            for name, channel in device.channels.items():
                if name in merged:
                    raise ValueError(f"ADC channel {name!r} is provided twice")
                merged[name] = channel
        self._devices = tuple(devices)
        self._channels = MappingProxyType(merged)

    @property
    def channels(self) -> Mapping[str, AdcChannel]:
        return self._channels

    def poll(self) -> None:
        first: V2xError | None = None
        for device in self._devices:
            try:
                device.poll()
            except V2xError as err:
                first = first or err
        if first is not None:
            raise first

    def close(self) -> None:
        for device in self._devices:
            device.close()
