"""v2x-controller: the application layer (config, measurement, protection, modes, dispatch,
links, store, supervisor, cli). It touches hardware only through :mod:`hal.interfaces`."""

__version__ = "0.1.0"
