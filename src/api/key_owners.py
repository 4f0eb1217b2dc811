"""Which organisation an API key belongs to, remembered for a minute per process, so the rate
limiter can count every key of an organisation together without a query per request."""

from __future__ import annotations

import hashlib
import time

import asyncpg

from asfmatch.storage.organisations import organisation_of_key

# A key's organisation never changes; the time limit only bounds how long a made-up key's
# "unknown" is remembered, and the size how much memory made-up keys can take.
_TTL_SECONDS = 60.0
_MAX_ENTRIES = 10_000


class KeyOwners:
    """digest of a key -> its organisation id (None: no such key)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int | None, float]] = {}

    async def organisation(self, pool: asyncpg.Pool, token: str) -> int | None:
        """The key's organisation, from memory or PostgreSQL."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        found = self._known.get(digest)
        if found is not None and found[1] > now:
            return found[0]
        async with pool.acquire() as connection:
            owner = await organisation_of_key(connection, token)
        if len(self._known) >= _MAX_ENTRIES:
            self._known.clear()
        self._known[digest] = (owner, now + _TTL_SECONDS)
        return owner
