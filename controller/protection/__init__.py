"""Protection: small monitors that observe the snapshot and trip. They never control.

A trip forces the safe state whatever the mode logic wants (the supervisor applies it before the
mode machine runs). See :mod:`controller.protection.protection` for the aggregate.
"""
