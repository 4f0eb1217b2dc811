"""Cache entries this process served lately, kept in its memory so that the next request for
the same list costs no Redis call.

A copy is only a shortcut to the Redis entry it was fetched as, and is trusted by the same rules
(storage/list_versions.py: the entry's version and the moment its PostgreSQL read began). What
Redis does on a write, replacing the entry by a fence, this process does by forgetting the copy
when it hears the write's announcement; a copy is only kept while the announcements heard so
far still trust it, so one heard between its fetch and its keeping cannot be missed. Every copy
is forgotten when trust is lost (a lost listener or fence, a new Redis connection), and after
`ttl_seconds` at the most."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentEntries(Generic[K, V]):
    """A bounded map of recently served entries, least recently kept first out."""

    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 4096) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The copy kept under `key`, if it has not expired."""
        found = self._entries.get(key)
        if found is None:
            return None
        if found[1] < time.monotonic():
            del self._entries[key]
            return None
        return found[0]

    def keep(self, key: K, value: V) -> None:
        """Keep a copy (the caller has checked that it is trusted now)."""
        self._entries[key] = (value, time.monotonic() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        """Drop the copy under `key`, if any."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every copy."""
        self._entries.clear()
