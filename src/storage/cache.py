"""Redis: the match-list cache and shared counters. Redis is an accelerator here, never the
source of truth, so every call is bounded by a short timeout and a failure reads as a miss."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from asfmatch.storage.local_limits import LocalWindows
from asfmatch.storage.rate_leases import Leases
from asfmatch.storage.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# After a failure, skip Redis for this long instead of paying the timeout on every request.
_COOL_OFF_SECONDS = 2.0


def create_redis(
    url: str, settings: Settings, on_new_connection: Callable[[], None] | None = None
) -> aioredis.Redis:
    """A client that gives up after `settings.redis_timeout` and never retries on its own.
    `on_new_connection` is called whenever it opens a connection: a restarted or failed-over
    Redis is only ever reached through a new one (storage/list_versions.py distrusts what was
    cached before)."""
    options: dict[str, Any] = {}
    if on_new_connection is not None:
        announce = on_new_connection

        async def connected(connection: Any) -> None:
            await connection.on_connect()
            announce()

        options["redis_connect_func"] = connected
    return aioredis.Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
        **options,
    )


class RedisGate:
    """Runs Redis calls with a deadline and remembers an outage for a moment."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.redis_prefix
        self.timeout = settings.redis_timeout
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False while a recent failure is cooling off."""
        return time.monotonic() >= self._down_until

    async def run(self, call: Awaitable[T], default: T) -> T:
        """Await `call`, or return `default` if Redis fails or takes longer than the timeout."""
        if not self.available:
            if asyncio.iscoroutine(call):
                call.close()
            return default
        try:
            return await asyncio.wait_for(call, self.timeout)
        except (RedisError, OSError, TimeoutError) as error:
            self._down_until = time.monotonic() + _COOL_OFF_SECONDS
            log.warning("redis unavailable (%s); serving without it", type(error).__name__)
            return default

    async def ping(self) -> bool:
        """True if Redis answers now (ignores the cool-off, for health checks)."""
        try:
            return bool(await asyncio.wait_for(self.client.ping(), self.timeout))
        except (RedisError, OSError, TimeoutError):
            return False


# A cache fill is refused when the PostgreSQL read it carries began longer ago than this
# (microseconds): fences (tombstones) live for the entries' whole TTL, so a fill can never land
# after the fence that should have stopped it expired.
FILL_WINDOW_MICROSECONDS = 5_000_000
# The version a fence takes for a need or supplier that was deleted: above any real one.
GONE = 2**53 - 1


class CachedList(msgspec.Struct, frozen=True):
    """A match list's cache entry: the list version it was rendered at, when (Redis clock, µs)
    the PostgreSQL read behind it began, who may read it, and the JSON body."""

    version: int
    stamp: int
    owner_organisation_id: int | None
    status: str
    body: bytes


def parse_list_entry(entry: bytes | None) -> CachedList | None:
    """The entry as stored by MatchCache.put; None for a fence, a miss or anything else."""
    if not entry:
        return None
    header, newline, body = entry.partition(b"\n")
    parts = header.split(b" ")
    if not newline or not body or len(parts) != 4:
        return None
    version, stamp, owner, status = parts
    if not (version.isdigit() and stamp.isdigit()):
        return None
    return CachedList(
        version=int(version),
        stamp=int(stamp),
        owner_organisation_id=None if owner == b"-" else int(owner),
        status=status.decode(),
        body=body,
    )


class MatchCache:
    """Ready match lists, one entry per owner holding the list's version and its JSON body,
    plus who may read it (the owner's organisation and status) and when the read behind it
    began. Writers' commits announce each new version (sql/013_list_versions.sql) and every API
    process writes it into Redis as a fence (storage/list_versions.py); an entry is only ever
    replaced by one of an equal or newer version, so a slow reader cannot put back a list a
    fence already superseded. A reader that has just read the version in PostgreSQL may serve
    a body of exactly that version (`body_at`); one that has not may serve an entry only while
    storage.list_versions.ListVersions trusts it.

    The entry is small enough to fetch on speculation: api.limits.RequestLimits reads it in the
    same Redis call that counts the rate limits (RateLimiter.hit_all's `prefetch`)."""

    def __init__(self, gate: RedisGate, ttl_seconds: int = 600) -> None:
        self.gate = gate
        self.ttl = ttl_seconds
        self._put = gate.client.register_script(_PUT_NEWER)
        self._fetch = gate.client.register_script(_FETCH)

    def key(self, owner: str, owner_id: int) -> str:
        """`owner` is "need" or "supplier"."""
        return f"{self.gate.prefix}matches:{owner}:{owner_id}"

    @staticmethod
    def body_at(entry: bytes | None, version: int) -> bytes | None:
        """The body of a fetched `entry` if it holds exactly `version`, else None."""
        found = parse_list_entry(entry)
        return found.body if found is not None and found.version == version else None

    async def fetch(self, owner: str, owner_id: int) -> tuple[bytes | None, int | None]:
        """The list's entry and Redis's clock (µs) in one call; (None, None) when Redis is
        unavailable."""
        reply = await self.gate.run(self._fetch(keys=[self.key(owner, owner_id)]), None)
        if reply is None:
            return None, None
        entry = reply[0] if isinstance(reply[0], bytes) else None
        return entry, int(reply[1])

    async def put(
        self,
        owner: str,
        owner_id: int,
        version: int,
        body: bytes,
        *,
        stamp: int,
        owner_organisation_id: int | None,
        status: str,
    ) -> None:
        """Store a list read from PostgreSQL at `version` by a read that began at `stamp` (Redis
        clock), unless a newer version (or fence) is stored; a failure only costs the next
        reader a database query."""
        meta = f"{'-' if owner_organisation_id is None else owner_organisation_id} {status}"
        await self.gate.run(
            self._put(
                keys=[self.key(owner, owner_id)],
                args=[version, stamp, meta, body, FILL_WINDOW_MICROSECONDS, self.ttl],
            ),
            None,
        )


_NOW = "local now = redis.call('TIME')\n" + (
    "local t = tonumber(now[1]) * 1000000 + tonumber(now[2])\n"
)

_FETCH = _NOW + "return {redis.call('GET', KEYS[1]), string.format('%.0f', t)}"

# Replace an entry ("<version> <stamp> <owner> <status>\n<body>") only with a newer or equal
# version, and only from a read that began within the fill window.
_PUT_NEWER = (
    _NOW
    + """
if t - tonumber(ARGV[2]) > tonumber(ARGV[5]) then return 0 end
local current = redis.call('GET', KEYS[1])
if current then
    local stored = tonumber(string.match(current, '^(%d+) '))
    if stored and stored > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. '\\n' .. ARGV[4],
           'EX', ARGV[6])
return 1
"""
)


# Lease tokens from each rate key in turn (a new window's key gets its expiry) and stop after the
# first one past its limit: every limit of a request in one call, the later ones uncounted once
# an earlier one refuses. A lease is at most what is left of the limit, and at least one token
# (a refused request is counted too). KEYS: the rate keys, then any keys to GET along (cache
# entries the request will likely want). ARGV: expiry, number of rate keys, then each key's
# limit and wanted lease. Returns each key's count after its lease and the lease's size, the
# fetched values and Redis's clock (µs), which a cache fill carries as the moment its
# PostgreSQL read began.
_LEASE = (
    _NOW
    + """
local rates = tonumber(ARGV[2])
local counts = {}
for i = 1, rates do
    local limit = tonumber(ARGV[1 + 2 * i])
    local before = tonumber(redis.call('GET', KEYS[i]) or '0')
    local size = math.max(1, math.min(tonumber(ARGV[2 + 2 * i]), limit - before))
    local used = redis.call('INCRBY', KEYS[i], size)
    if used == size then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
    counts[i] = {used, size}
    if used - size + 1 > limit then break end
end
local fetched = {}
for i = rates + 1, #KEYS do fetched[i - rates] = redis.call('GET', KEYS[i]) end
return {counts, fetched, string.format('%.0f', t)}
"""
)


class RateLimitResult(msgspec.Struct, frozen=True):
    """The outcome of counting one request against a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class RateLimiter:
    """Fixed-window counters in Redis, so every API process shares them, taken in leases
    (storage/rate_leases.py) so that a busy caller costs a Redis call only every so many
    requests. While Redis is unavailable each process counts on its own (LocalWindows): a
    client then gets at most the limit per process, rather than no limit at all."""

    def __init__(self, gate: RedisGate, window_seconds: int = 60) -> None:
        self.gate = gate
        self.window = window_seconds
        self.local = LocalWindows()
        self.leases = Leases()
        # EVALSHA, loading the script again if Redis lost it (a restart).
        self._lease = gate.client.register_script(_LEASE)

    async def hit(self, identity: str, limit: int) -> RateLimitResult:
        """Count one request by `identity`, in Redis or, while it is unavailable, locally."""
        return (await self.hit_all([(identity, limit)]))[0][0]

    async def hit_all(
        self, limits: Sequence[tuple[str, int]], prefetch: Sequence[str] = ()
    ) -> tuple[list[RateLimitResult], Prefetch | None]:
        """Count one request against each (identity, limit) in turn, from this process's
        leases where it holds tokens and otherwise in one Redis round trip (a Lua script) that
        also GETs the keys `prefetch` along with Redis's clock; no Redis call when the leases
        cover every limit and nothing is to be fetched. Locally, fetching nothing (None), while
        Redis is unavailable. Limits after the first one that refuses are not counted, and not
        returned."""
        now = time.time()
        window_number = int(now // self.window)
        reset = max(1, int(self.window - now % self.window))
        leases = self.leases
        # Limits this process holds tokens for are counted here, in order, until one refuses or
        # one needs a lease from Redis; from there on, those without a token ask Redis along,
        # and those with one take it only once the earlier limits have allowed the request.
        considered = len(limits)
        taken: dict[int, int] = {}
        asking: list[int] = []
        for position, (identity, limit) in enumerate(limits):
            if asking:
                if leases.peek(identity, window_number) is None:
                    asking.append(position)
                continue
            token = leases.take(identity, window_number)
            if token is None:
                asking.append(position)
                continue
            taken[position] = token
            if token > limit:
                considered = position + 1
                break
        reply = None
        if asking or prefetch:
            keys, wanted = [], []
            for position in asking:
                identity, limit = limits[position]
                keys.append(f"{self.gate.prefix}ratelimit:{identity}:{window_number}")
                wanted += [limit, leases.wanted(identity, window_number, limit)]
            reply = await self.gate.run(
                self._lease(keys=[*keys, *prefetch], args=[self.window + 1, len(keys), *wanted]),
                None,
            )
        leased = {} if reply is None else dict(zip(asking, reply[0], strict=False))
        results: list[RateLimitResult] = []
        for position, (identity, limit) in enumerate(limits[:considered]):
            token = taken.get(position)
            if token is None and position in leased:
                used, size = leased[position]
                token = leases.granted(identity, window_number, int(used), int(size), limit)
            elif token is None and position in asking and reply is not None:
                # Redis stopped at an earlier limit that refused.
                break
            elif token is None:
                token = leases.take(identity, window_number)
            if token is None and reply is None:
                token = self.local.hit(identity, window_number)
            elif token is None:
                # A concurrent request took the tokens this one counted on: count the rest anew.
                rest, _ = await self.hit_all(limits[position:considered])
                return [*results, *rest], self._prefetched(reply, len(prefetch))
            results.append(
                RateLimitResult(
                    allowed=token <= limit,
                    limit=limit,
                    remaining=max(0, limit - token),
                    reset_seconds=reset,
                )
            )
            if token > limit:
                break
        return results, self._prefetched(reply, len(prefetch))

    @staticmethod
    def _prefetched(reply: Any, wanted: int) -> Prefetch | None:
        if reply is None:
            return None
        values = (list(reply[1]) + [None] * wanted)[:wanted]
        return Prefetch(
            values=[value if isinstance(value, bytes) else None for value in values],
            stamp=int(reply[2]),
        )


class Prefetch(msgspec.Struct, frozen=True):
    """Keys fetched along with a rate-limit count (None: not stored) and Redis's clock (µs)
    at that moment."""

    values: list[bytes | None]
    stamp: int


class NeedsListCache:
    """The public needs list's first pages, one entry per query string, each stamped with the
    value of one needs-list counter that every committed need write moves (announced by
    sql/013_list_versions.sql, written by storage/list_versions.py). An entry is served only
    while its counter value is the current one."""

    def __init__(self, gate: RedisGate, ttl_seconds: int = 600) -> None:
        self.gate = gate
        self.ttl = ttl_seconds
        self.counter_key = f"{gate.prefix}needs-list:version"
        self._put = gate.client.register_script(_PUT_LISTING)

    def entry_key(self, query_string: bytes) -> str:
        """The key of one query string's page."""
        return f"{self.gate.prefix}needs-list:page:{hashlib.sha256(query_string).hexdigest()[:32]}"

    @staticmethod
    def parse(counter: bytes | None, entry: bytes | None) -> tuple[int, int, bytes] | None:
        """(counter value, stamp, body) of an entry rendered at the current `counter`, else
        None."""
        if counter is None or not entry:
            return None
        header, newline, body = entry.partition(b"\n")
        version, _, stamp = header.partition(b" ")
        if not newline or version != counter or not stamp.isdigit() or not version.isdigit():
            return None
        return int(version), int(stamp), body

    async def put(self, query_string: bytes, counter: bytes, stamp: int, body: bytes) -> None:
        """Store a page read from PostgreSQL by a read that began at `stamp`, after the counter
        read `counter`; dropped if the counter has moved since (a need was written)."""
        await self.gate.run(
            self._put(
                keys=[self.counter_key, self.entry_key(query_string)],
                args=[counter, stamp, body, self.ttl, FILL_WINDOW_MICROSECONDS],
            ),
            None,
        )


# KEYS: the counter, the entry. ARGV: the counter as read before the page, the read's stamp,
# the body, ttl, fill window. A missing counter (a new or emptied Redis) is started at the
# clock's µs, above any value an earlier counter reached, and nothing is stored this time.
_PUT_LISTING = (
    _NOW
    + """
local counter = redis.call('GET', KEYS[1])
if not counter then
    redis.call('SET', KEYS[1], string.format('%.0f', t), 'NX')
    return 0
end
if counter ~= ARGV[1] or t - tonumber(ARGV[2]) > tonumber(ARGV[5]) then return 0 end
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. ARGV[2] .. '\\n' .. ARGV[3], 'EX', ARGV[4])
return 1
"""
)
