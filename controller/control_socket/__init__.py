"""The control socket: the gateway's local way to the controller (docs/gateway.md).

A Unix socket speaking the console's framed machine protocol (controller/console/framing.py),
served from the control loop's thread without blocking it. Clients ask only as the operator-level
``schedule`` and ``grid_operator`` requesters, and every claim carries a lease.
"""
