"""The gateway: the second, unprivileged, networked process (ARCHITECTURE.md section 6).

It reaches the controller only through the controller's local Unix control socket and only asks:
every request is a leased claim (``schedule`` or ``grid_operator``) that the controller's
arbitration, interlocks and grid protection may refuse or outrank. Nothing here is imported by
the controller's loop.
"""
