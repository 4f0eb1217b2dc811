"""Redis: the match-list cache and shared counters. Redis is an accelerator here, never the
source of truth, so every call is bounded by a short timeout and a failure reads as a miss."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import msgspec
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from asfmatch.storage.local_limits import LocalWindows
from asfmatch.storage.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# After a failure, skip Redis for this long instead of paying the timeout on every request.
_COOL_OFF_SECONDS = 2.0


def create_redis(url: str, settings: Settings) -> aioredis.Redis:
    """A client that gives up after `settings.redis_timeout` and never retries on its own."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
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


class MatchCache:
    """Ready match lists, one entry per owner holding the list's version and its JSON body. A
    committed write bumps the version in PostgreSQL, and a body is served only when its version
    equals the one the reader has just read there, so a reader can never be served a list older
    than the data it reads the version from. An entry is only ever replaced by a newer version.

    The entry is small enough to fetch on speculation: api.limits.RequestLimits reads it in the
    same Redis call that counts the rate limits (RateLimiter.hit_all's `prefetch`)."""

    def __init__(self, gate: RedisGate, ttl_seconds: int = 600) -> None:
        self.gate = gate
        self.ttl = ttl_seconds
        self._put = gate.client.register_script(_PUT_NEWER)

    def key(self, owner: str, owner_id: int) -> str:
        """`owner` is "need" or "supplier"."""
        return f"{self.gate.prefix}matches:{owner}:{owner_id}"

    @staticmethod
    def body_at(entry: bytes | None, version: int) -> bytes | None:
        """The body of a fetched `entry` if it holds exactly `version`, else None."""
        if entry is None:
            return None
        stored, _, body = entry.partition(b"\n")
        return body if stored == str(version).encode() else None

    async def get(self, owner: str, owner_id: int, version: int) -> bytes | None:
        """The cached JSON body at `version`, or None on a miss or when Redis is unavailable."""
        value = await self.gate.run(self.gate.client.get(self.key(owner, owner_id)), None)
        return self.body_at(value if isinstance(value, bytes) else None, version)

    async def put(self, owner: str, owner_id: int, version: int, body: bytes) -> None:
        """Store a ready list unless a newer version is stored; a failure only costs the next
        reader a database query."""
        await self.gate.run(
            self._put(keys=[self.key(owner, owner_id)], args=[version, body, self.ttl]), None
        )


# Replace an entry ("<version>\n<body>") only with a newer or equal version: a slow reader
# that read an older version must not overwrite a newer list another reader stored.
_PUT_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
    local stored = tonumber(string.match(current, '^(%d+)\\n'))
    if stored and stored > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '\\n' .. ARGV[2], 'EX', ARGV[3])
return 1
"""


# INCR each rate key in turn (a new window's key gets its expiry) and stop after the first one
# past its limit: every limit of a request in one call, the later ones uncounted once an
# earlier one refuses. KEYS: the rate keys, then optionally one key to GET along (a cache entry
# the request will likely want). ARGV: expiry, number of rate keys, their limits.
_COUNT = """
local rates = tonumber(ARGV[2])
local counts = {}
for i = 1, rates do
    local used = redis.call('INCR', KEYS[i])
    if used == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
    counts[i] = used
    if used > tonumber(ARGV[2 + i]) then break end
end
local fetched = false
if #KEYS > rates then fetched = redis.call('GET', KEYS[rates + 1]) end
return {counts, fetched}
"""


class RateLimitResult(msgspec.Struct, frozen=True):
    """The outcome of counting one request against a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class RateLimiter:
    """Fixed-window counters in Redis, so every API process shares them. While Redis is
    unavailable each process counts on its own (LocalWindows): a client then gets at most the
    limit per process, rather than no limit at all."""

    def __init__(self, gate: RedisGate, window_seconds: int = 60) -> None:
        self.gate = gate
        self.window = window_seconds
        self.local = LocalWindows()
        # EVALSHA, loading the script again if Redis lost it (a restart).
        self._count = gate.client.register_script(_COUNT)

    async def hit(self, identity: str, limit: int) -> RateLimitResult:
        """Count one request by `identity`, in Redis or, while it is unavailable, locally."""
        return (await self.hit_all([(identity, limit)]))[0][0]

    async def hit_all(
        self, limits: Sequence[tuple[str, int]], prefetch: str | None = None
    ) -> tuple[list[RateLimitResult], bytes | None]:
        """Count one request against each (identity, limit) in turn, and GET the key `prefetch`
        along, all in one Redis round trip (a Lua script); locally, fetching nothing, while
        Redis is unavailable. Limits after the first one that refuses are not counted, and not
        returned."""
        now = time.time()
        window_number = int(now // self.window)
        reset = max(1, int(self.window - now % self.window))
        keys = [f"{self.gate.prefix}ratelimit:{identity}:{window_number}" for identity, _ in limits]
        reply = await self.gate.run(
            self._count(
                keys=keys if prefetch is None else [*keys, prefetch],
                args=[self.window + 1, len(keys), *(limit for _, limit in limits)],
            ),
            None,
        )
        shared, fetched = (None, None) if reply is None else (reply[0], reply[1])
        results: list[RateLimitResult] = []
        for position, (identity, limit) in enumerate(limits):
            if shared is None:
                if results and not results[-1].allowed:
                    break
                used = self.local.hit(identity, window_number)
            elif position < len(shared):
                used = int(shared[position])
            else:
                break
            results.append(
                RateLimitResult(
                    allowed=used <= limit,
                    limit=limit,
                    remaining=max(0, limit - used),
                    reset_seconds=reset,
                )
            )
        return results, fetched if isinstance(fetched, bytes) else None
