"""What power to ask for: mode, limits, the v2h import target, ramps."""
