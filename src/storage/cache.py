"""Redis: the match-list cache and shared counters. Redis is an accelerator here, never the
source of truth, so every call is bounded by a short timeout and a failure reads as a miss."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
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
    """Ready match lists keyed by owner and version: a committed write bumps the version, so a
    reader can never be served a list older than the data it reads the version from."""

    def __init__(self, gate: RedisGate, ttl_seconds: int = 600) -> None:
        self.gate = gate
        self.ttl = ttl_seconds

    def key(self, owner: str, owner_id: int, version: int) -> str:
        """`owner` is "need" or "supplier"."""
        return f"{self.gate.prefix}matches:{owner}:{owner_id}:v{version}"

    async def get(self, owner: str, owner_id: int, version: int) -> bytes | None:
        """The cached JSON body, or None on a miss or when Redis is unavailable."""
        value = await self.gate.run(self.gate.client.get(self.key(owner, owner_id, version)), None)
        return value if isinstance(value, bytes) else None

    async def put(self, owner: str, owner_id: int, version: int, body: bytes) -> None:
        """Store a ready list; a failure only costs the next reader a database query."""
        await self.gate.run(
            self.gate.client.set(self.key(owner, owner_id, version), body, ex=self.ttl), None
        )

    async def drop(self, owner: str, owner_id: int, version: int) -> None:
        """Delete a superseded entry early instead of waiting for its TTL."""
        await self.gate.run(self.gate.client.delete(self.key(owner, owner_id, version)), None)


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

    async def hit(self, identity: str, limit: int) -> RateLimitResult:
        """Count one request by `identity`, in Redis or, while it is unavailable, locally."""
        now = time.time()
        window_number = int(now // self.window)
        reset = max(1, int(self.window - now % self.window))
        key = f"{self.gate.prefix}ratelimit:{identity}:{window_number}"

        async def count() -> int:
            async with self.gate.client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window + 1)
                used, _ = await pipe.execute()
            return int(used)

        shared = await self.gate.run(count(), None)
        used = self.local.hit(identity, window_number) if shared is None else shared
        return RateLimitResult(
            allowed=used <= limit,
            limit=limit,
            remaining=max(0, limit - used),
            reset_seconds=reset,
        )
