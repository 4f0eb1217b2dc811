"""Who is calling, from memory: the principal behind each recently used API key, so a request
costs no PostgreSQL query to authenticate.

Revocation still takes effect at once: revoking (or deleting) a key NOTIFYs its id at commit
(sql/008_key_revocations.sql) and every process's hub drops it from memory on hearing it. NOTIFY
was chosen over Redis pub/sub because PostgreSQL delivers it exactly when the revoking
transaction commits and never for one that rolls back, and because each process already holds
one LISTEN connection (storage/stream_hub.py); Redis may be down, PostgreSQL may not. While that
connection is lost nothing is trusted from memory (every request asks PostgreSQL), and memory is
emptied when it is back, since a revocation may have gone unheard in between."""

from __future__ import annotations

import hashlib
import time

import asyncpg

from asfmatch.storage.organisations import Principal, authenticate
from asfmatch.storage.stream_hub import StreamHub

# A key's role never changes; the time limit bounds how stale `last_used_at` gets (it is written
# on a lookup at most once a minute) and how long a made-up key's "unknown" is remembered. The
# size bounds the memory made-up keys can take.
_TTL_SECONDS = 60.0
_MAX_ENTRIES = 10_000


class Principals:
    """sha256 of a key -> its principal (None: unknown or revoked), for one process."""

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub
        self._known: dict[bytes, tuple[Principal | None, float]] = {}
        # Counts revocations heard: a lookup that overlapped one is not remembered.
        self._heard = 0
        hub.on_key_revoked(self.forget_key)
        hub.on_relisten(self._forget_all)

    def forget_key(self, key_id: int) -> None:
        """Drop a revoked key (heard through NOTIFY, or revoked by this process)."""
        self._heard += 1
        for digest, (principal, _) in list(self._known.items()):
            if principal is not None and principal.key_id == key_id:
                del self._known[digest]

    def _forget_all(self) -> None:
        self._heard += 1
        self._known.clear()

    async def principal(
        self, pool: asyncpg.Pool, token: str, acquire_seconds: float
    ) -> Principal | None:
        """The key's principal: from memory while the revocation listener holds, else (and on a
        miss) from PostgreSQL."""
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        trusted, heard = self._hub.listening, self._heard
        if trusted:
            found = self._known.get(digest)
            if found is not None and found[1] > now:
                return found[0]
        async with pool.acquire(timeout=acquire_seconds) as connection:
            principal = await authenticate(connection, token)
        # Remember only what was read while listening and while no revocation was heard: one
        # committed after this read will be heard, and one heard during it may be this key's.
        if trusted and self._hub.listening and heard == self._heard:
            if len(self._known) >= _MAX_ENTRIES:
                self._known.clear()
            self._known[digest] = (principal, now + _TTL_SECONDS)
        return principal
