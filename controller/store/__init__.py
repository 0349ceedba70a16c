"""Persistent state in SQLite: the event log and latched faults (which survive a restart)."""
