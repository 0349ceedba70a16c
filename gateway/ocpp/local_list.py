"""The local authorisation list (SendLocalList / GetLocalListVersion), kept in the store.

Tokens on the list are authorised without asking the CSMS, online or offline; a token not on
it is asked about online and refused offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.ocpp.outbox import StationStore

STORE_KEY = "local_list"
MAX_ENTRIES = 1000


class LocalList:
    def __init__(self, store: StationStore) -> None:
        self._store = store
        saved = store.get_json(STORE_KEY) or {}
        self.version = int(saved.get("version", 0))
        self._entries: dict[str, str] = dict(saved.get("entries", {}))

    def status(self, id_token: str) -> str | None:
        """The token's status on the list, None when it is not on it."""
        return self._entries.get(id_token)

    def update(self, version: int, update_type: str,
               entries: Sequence[dict[str, Any]]) -> str:
        """Apply a SendLocalList; returns its status (Accepted, Failed, VersionMismatch)."""
        if update_type == "Differential" and version <= self.version:
            return "VersionMismatch"
        new = {} if update_type == "Full" else dict(self._entries)
        for entry in entries:
            token = entry["id_token"]["id_token"]
            info = entry.get("id_token_info")
            if info is None:
                new.pop(token, None)
            else:
                new[token] = str(info["status"])
        if len(new) > MAX_ENTRIES:
            return "Failed"
        self.version, self._entries = version, new
        self._store.set_json(STORE_KEY, {"version": version, "entries": new})
        return "Accepted"
