"""The controller's CAN links: typed, checked views of the inverter and the EV buses."""

from controller.links.ev_link import EvLink
from controller.links.inverter_link import InverterLink

__all__ = ["EvLink", "InverterLink"]
