"""When a cached list may be served without asking PostgreSQL, in one API process.

Every committed change to a match list (its rows, its owner's organisation or status, its
ranking job opening, finishing or failing) bumps the owner's `match_version`, and every change
to a need's public content is a change of the needs list; sql/013_list_versions.sql NOTIFYs
both at commit. This process hears them on its one LISTEN connection (storage/stream_hub.py)
and writes them into Redis: a fence at the new version for each list (an entry older than a
fence is never stored or served again) and one step of the needs-list counter. A cache entry
carries the Redis clock of the moment the PostgreSQL read behind it began (its stamp).

An entry may be served by this process without PostgreSQL when:
- the LISTEN connection is up, and has been since before the entry's stamp, and every
  announcement heard since then was written into Redis (otherwise `distrust`: nothing stamped
  earlier is trusted again; a new Redis connection counts too, since a restarted or failed-over
  Redis, which may have lost recent fences, is only reached through one);
- its version is not older than any this process has heard (an announcement heard but whose
  fence is still on its way, or landed after the entry was fetched).
A commit after the entry's read was then heard and fenced by this process, so the entry would
be gone. What remains is the moment between a commit and its NOTIFY reaching this process,
the same bound as for API key revocations.

Entries this process served lately are also kept in its memory (storage/recent_entries.py), so
that a hot list costs no Redis call at all: a copy is forgotten on the announcements that
would fence its Redis entry, and is trusted by the same rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from asfmatch.storage.cache import GONE, CachedList, MatchCache, NeedsListCache
from asfmatch.storage.recent_entries import RecentEntries
from asfmatch.storage.stream_hub import LISTS_CHANNEL, StreamHub

log = logging.getLogger(__name__)

# Payloads on LISTS_CHANNEL: "need:12:5", "supplier:3:gone", and this one for the needs list.
NEEDS_LIST = "needs"
__all__ = ["LISTS_CHANNEL", "NEEDS_LIST", "ListVersions"]

# How long a heard version is remembered: far longer than a request takes from its Redis fetch
# to its answer, so no entry fetched before its fence landed can be served after it.
_REMEMBER_SECONDS = 60.0

# KEYS: the needs-list counter, then the fenced lists' keys. ARGV: ttl, 1 to move the counter,
# then each list's new version. Returns the counter's value (0 when it did not move).
_FENCE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
local counter = 0
if ARGV[2] == '1' then
    if redis.call('EXISTS', KEYS[1]) == 1 then
        counter = redis.call('INCR', KEYS[1])
    else
        redis.call('SET', KEYS[1], string.format('%.0f', t))
        counter = t
    end
end
for i = 2, #KEYS do
    local version = tonumber(ARGV[i + 1])
    local current = redis.call('GET', KEYS[i])
    local stored = current and tonumber(string.match(current, '^(%d+) '))
    if not stored or stored < version then
        redis.call('SET', KEYS[i], ARGV[i + 1] .. ' 0 - -\\n', 'EX', ARGV[1])
    end
end
return string.format('%.0f', counter)
"""


class ListVersions:
    """Hears list versions, fences them in Redis, and says which cache entries this process
    may serve without PostgreSQL."""

    def __init__(self, cache: MatchCache, needs_list: NeedsListCache, hub: StreamHub) -> None:
        gate = cache.gate
        self._gate = gate
        self._hub = hub
        self._cache = cache
        self._counter_key = needs_list.counter_key
        self._ttl = cache.ttl
        self._fence = gate.client.register_script(_FENCE)
        # Redis clock (µs) since which entries are trusted; None: none until the next fetch.
        self._trusted_since: int | None = None
        # Moves on every distrust, so a fetch that overlapped one cannot restore trust.
        self.generation = 0
        # (owner, id) -> the newest version heard and until when it is remembered.
        self._heard: dict[tuple[str, int], tuple[int, float]] = {}
        self._expiry: deque[tuple[float, tuple[str, int]]] = deque()
        self._unfenced: dict[tuple[str, int], int] = {}
        self._needs_heard = 0
        self._needs_fenced = 0
        # The needs-list counter's value after this process last moved it.
        self._needs_floor = 0
        # Copies of trusted entries: (owner, id) -> (the parsed entry, Redis's clock when it was
        # fetched); a needs-list query string -> (counter, entry, that clock).
        self._lists: RecentEntries[tuple[str, int], tuple[CachedList, int]] = RecentEntries()
        self._pages: RecentEntries[bytes, tuple[bytes, bytes, int]] = RecentEntries()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        hub.on_lists_changed(self.heard)
        hub.on_relisten(self.distrust)

    def start(self) -> None:
        """Start writing what is heard into Redis."""
        self._task = asyncio.create_task(self._fence_heard())

    async def stop(self) -> None:
        """Stop writing."""
        if self._task is not None:
            # The flag as well as the cancel: Python 3.11's wait_for (inside the Redis gate) can
            # swallow a cancellation that lands as its call completes, and the loop would then
            # wait for the next announcement forever, holding the server's shutdown.
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def distrust(self) -> None:
        """Trust no entry read before the next Redis fetch (a lost listener or fence, a new
        Redis connection)."""
        self.generation += 1
        self._trusted_since = None
        self._lists.clear()
        self._pages.clear()

    def observe(self, stamp: int, generation: int) -> None:
        """A Redis fetch answered at `stamp`; `generation` as read before it was sent. Restores
        trust from that moment on if nothing went wrong meanwhile."""
        if self._trusted_since is None and generation == self.generation and self._hub.listening:
            self._trusted_since = stamp

    @property
    def trusted_since(self) -> int | None:
        """The Redis clock (µs) since which entries are trusted; None: none for now."""
        return self._trusted_since

    def _trusted(self, stamp: int) -> bool:
        since = self._trusted_since
        return since is not None and stamp >= since and self._hub.listening

    def trusts(self, owner: str, owner_id: int, version: int, stamp: int) -> bool:
        """True if a match list's entry at `version`, read at `stamp`, may be served."""
        heard = self._heard.get((owner, owner_id))
        return self._trusted(stamp) and (heard is None or version >= heard[0])

    def trusts_needs_list(self, counter: int, stamp: int) -> bool:
        """True if a needs-list page rendered at `counter`, read at `stamp`, may be served."""
        return (
            self._trusted(stamp)
            and self._needs_heard == self._needs_fenced
            and counter >= self._needs_floor
        )

    def fetched_list(self, owner: str, owner_id: int, found: CachedList | None, stamp: int) -> None:
        """A match list's entry (as parsed) fetched from Redis at `stamp`: kept in memory if
        trusted."""
        if found is not None and self.trusts(owner, owner_id, found.version, found.stamp):
            self._lists.keep((owner, owner_id), (found, stamp))

    def remembered_list(self, owner: str, owner_id: int) -> tuple[CachedList, int] | None:
        """A kept match list's entry and the Redis clock when it was fetched, while trusted."""
        key = (owner, owner_id)
        kept = self._lists.get(key)
        if kept is None:
            return None
        found = kept[0]
        if not self.trusts(owner, owner_id, found.version, found.stamp):
            self._lists.forget(key)
            return None
        return kept

    def fetched_page(
        self, query_string: bytes, counter: bytes | None, entry: bytes | None, stamp: int
    ) -> None:
        """A needs-list page fetched from Redis at `stamp`: kept in memory if trusted."""
        found = NeedsListCache.parse(counter, entry)
        trusted = found is not None and self.trusts_needs_list(found[0], found[1])
        if counter is not None and entry is not None and trusted:
            self._pages.keep(query_string, (counter, entry, stamp))

    def remembered_page(self, query_string: bytes) -> tuple[bytes, bytes, int] | None:
        """A kept needs-list page's counter, entry and fetch clock, while trusted."""
        found = self._pages.get(query_string)
        if found is None:
            return None
        parsed = NeedsListCache.parse(found[0], found[1])
        if parsed is None or not self.trusts_needs_list(parsed[0], parsed[1]):
            self._pages.forget(query_string)
            return None
        return found

    def heard(self, payload: str) -> None:
        """One announcement from sql/013_list_versions.sql."""
        if payload == NEEDS_LIST:
            self._pages.clear()
            self._needs_heard += 1
            self._wake.set()
            return
        owner, _, rest = payload.partition(":")
        owner_id, _, version_text = rest.partition(":")
        if owner not in ("need", "supplier") or not owner_id.isdigit():
            return
        version = GONE if version_text == "gone" else int(version_text)
        key = (owner, int(owner_id))
        self._lists.forget(key)
        before = self._heard.get(key)
        if before is None or version > before[0]:
            until = time.monotonic() + _REMEMBER_SECONDS
            self._heard[key] = (version, until)
            self._expiry.append((until, key))
        if version > self._unfenced.get(key, -1):
            self._unfenced[key] = version
        self._wake.set()

    def _forget_old(self) -> None:
        now = time.monotonic()
        while self._expiry and self._expiry[0][0] < now:
            until, key = self._expiry.popleft()
            # A later hearing of the same key queued its own expiry; drop only the last one.
            found = self._heard.get(key)
            if found is not None and found[1] == until:
                del self._heard[key]

    async def _fence_heard(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            await self.fence_now()
            self._forget_old()

    async def fence_now(self) -> None:
        """Write every heard, unfenced version into Redis in one call; on failure distrust."""
        lists, self._unfenced = self._unfenced, {}
        needs = self._needs_heard
        move_counter = needs != self._needs_fenced
        if not lists and not move_counter:
            return
        keys = [self._cache.key(owner, owner_id) for owner, owner_id in lists]
        reply = await self._gate.run(
            self._fence(
                keys=[self._counter_key, *keys],
                args=[self._ttl, 1 if move_counter else 0, *lists.values()],
            ),
            None,
        )
        if reply is None:
            log.warning(
                "could not fence %d cached lists in Redis; trusting none for now", len(keys)
            )
            self.distrust()
        elif move_counter:
            self._needs_floor = max(self._needs_floor, int(reply))
        # Either fenced, or distrusted (nothing read before now is served again).
        self._needs_fenced = needs
