"""The hardware abstraction layer: everything that touches a pin, a bus, a port or the clock.

``controller`` imports only :mod:`hal.interfaces`, :mod:`hal.errors`, :mod:`hal.registry` and
:mod:`hal.protocols` from here; concrete backends (``hal.pi``, ``hal.sim``) are loaded lazily by
:func:`hal.registry.open_backend`.
"""
