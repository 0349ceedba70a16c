"""Grid protection: IEEE 1547-2018 trip elements and ride-through, enter service, the islanding
backstop, backup isolation and the v2g export window, combined into one grid verdict
(:mod:`controller.protection.grid.grid_window`; docs/grid-protection.md)."""
