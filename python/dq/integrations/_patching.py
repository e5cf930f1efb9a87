"""Reversible attribute replacement shared by the integrations."""
from __future__ import annotations

import threading

_MISSING = object()


class Patches:
    """Replaces attributes and remembers the originals, so disable() restores exactly what
    enable() changed (and only where our replacement is still in place)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._saved: list[tuple[object, str, object, object]] = []

    @property
    def active(self) -> bool:
        return bool(self._saved)

    def replace(self, owner, attr: str, new) -> None:
        with self._lock:
            old = getattr(owner, attr, _MISSING)
            setattr(owner, attr, new)
            self._saved.append((owner, attr, old, new))

    def restore(self) -> None:
        with self._lock:
            for owner, attr, old, new in reversed(self._saved):
                if getattr(owner, attr, _MISSING) is not new:
                    continue  # someone replaced it after us: leave theirs
                if old is _MISSING:
                    delattr(owner, attr)
                else:
                    setattr(owner, attr, old)
            self._saved.clear()


def add_entries(table: dict, entries: dict, added: list) -> None:
    """Adds the keys `table` lacks; records them in `added` for remove_entries."""
    for key, value in entries.items():
        if key not in table:
            table[key] = value
            added.append((table, key))


def remove_entries(added: list) -> None:
    for table, key in added:
        table.pop(key, None)
    added.clear()
