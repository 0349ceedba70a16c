"""The frozen values one control tick passes from stage to stage, and the status it shows.

The low package: everything in ``controller/`` may import it, and at run time it imports only
``hal`` interfaces and ``controller.modes.states`` (an Enum with no imports of its own), so
protection, modes, dispatch and the supervisor share these types without importing upward.
The result types of the stages that a context carries (``ProtectionResult``, ``GridEstimate``,
``Request``) are named for the type checker only. ``tests/test_values_layer.py`` checks the
rule.
"""
