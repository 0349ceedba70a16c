"""The technician console: a shell and a framed machine protocol on the serial ports.

``docs/console.md`` is the reference (commands, roles, machine framing). The console runs inside
the control loop's thread (``ConsoleServer.on_tick``) with non-blocking, budgeted I/O; it reaches
the supervisor only through :mod:`controller.console.bridge` and never touches hardware.
"""
