"""The ``v2xctl`` command line."""
