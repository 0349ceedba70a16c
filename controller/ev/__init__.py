"""The EV link: the charger's side of a session with the vehicle (docs/ev-link.md)."""
