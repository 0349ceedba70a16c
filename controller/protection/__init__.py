"""Protection: small monitors that observe the snapshot and trip. They never control.

A trip forces the safe state whatever the mode logic wants (the supervisor applies it before the
mode machine runs). Every monitor has the shape of :mod:`controller.protection.monitor`; the
table of monitors is :mod:`controller.protection.table`, and
:mod:`controller.protection.protection` runs them. Sub-packages: ``grid/`` (IEEE 1547 and the
grid verdict) and ``interlocks/`` (E-stop, door, RCM, IMD, NTC temperatures).
"""
