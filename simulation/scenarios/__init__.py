"""Scenarios: a public file format, a virtual-time runner and a ground-truth report.

This package is the test bench. It is the one part of ``controller`` that reaches into the
simulator (``hal.sim``), through the world handle the ``sim`` backend exposes; the controller it
runs is the production code, unchanged.
"""
