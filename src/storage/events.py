"""Wake-ups for live streams through Redis pub/sub: a message only says "this supplier has news"
and streams read PostgreSQL, so a lost, early or spurious wake-up never costs an event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from asfmatch.storage.cache import create_redis
from asfmatch.storage.embedded import EmbeddedRedis
from asfmatch.storage.settings import Settings

log = logging.getLogger(__name__)

# After a broken subscription, wait this long before connecting again.
_RECONNECT_SECONDS = 2.0


def redis_url(settings: Settings) -> str:
    """The configured Redis, or the embedded one that `running_servers` starts or reuses."""
    return settings.redis_url or EmbeddedRedis(settings.data_dir).url


def supplier_channel(settings: Settings, supplier_id: int) -> str:
    """The pub/sub channel of one supplier's live stream."""
    return f"{settings.redis_prefix}events:supplier:{supplier_id}"


async def wake_streams(settings: Settings, supplier_ids: Sequence[int]) -> None:
    """Tell these suppliers' live streams to look for new notifications; best effort, bounded
    by the Redis timeout (the streams' heartbeat re-reads PostgreSQL anyway)."""
    if not supplier_ids:
        return
    client = create_redis(redis_url(settings), settings)
    try:
        async with asyncio.timeout(settings.redis_timeout * 2):
            async with client.pipeline(transaction=False) as pipe:
                for supplier_id in sorted(set(supplier_ids)):
                    pipe.publish(supplier_channel(settings, supplier_id), b"1")
                await pipe.execute()
    except (RedisError, OSError, TimeoutError) as error:
        log.warning("could not wake live streams (%s); they catch up at their heartbeat", error)
    finally:
        await client.aclose()


class Subscription:
    """One live stream's wake-ups. Survives Redis outages: while Redis is away, `wait` just
    sleeps, and it subscribes again after a short pause."""

    def __init__(self, settings: Settings, url: str, supplier_id: int) -> None:
        self.channel = supplier_channel(settings, supplier_id)
        self.url = url
        self.connect_timeout = settings.redis_timeout
        self._client: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._retry_at = 0.0

    @property
    def connected(self) -> bool:
        """True while subscribed."""
        return self._pubsub is not None

    async def open(self) -> bool:
        """Subscribe; False if Redis is unavailable (the stream then relies on polling)."""
        if self._pubsub is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        # No read timeout: the pub/sub connection is idle between events by design.
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=self.connect_timeout)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            async with asyncio.timeout(self.connect_timeout * 4):
                await pubsub.subscribe(self.channel)
        except (RedisError, OSError, TimeoutError) as error:
            log.info("live stream without Redis (%s); polling PostgreSQL", type(error).__name__)
            self._retry_at = time.monotonic() + _RECONNECT_SECONDS
            await self._discard(client, pubsub)
            return False
        self._client, self._pubsub = client, pubsub
        return True

    async def wait(self, seconds: float) -> bool:
        """Up to `seconds` for a wake-up; True if one came."""
        if self._pubsub is None and not await self.open():
            await asyncio.sleep(seconds)
            return False
        assert self._pubsub is not None
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=left
                )
                if message is not None and message.get("type") == "message":
                    return True
            return False
        except (RedisError, OSError) as error:
            log.info("live stream lost Redis (%s); polling PostgreSQL", type(error).__name__)
            await self.close()
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            return False

    async def close(self) -> None:
        """Unsubscribe and close the connection."""
        client, pubsub = self._client, self._pubsub
        self._client = self._pubsub = None
        self._retry_at = time.monotonic() + _RECONNECT_SECONDS
        if client is not None and pubsub is not None:
            await self._discard(client, pubsub)

    @staticmethod
    async def _discard(client: aioredis.Redis, pubsub: aioredis.client.PubSub) -> None:
        try:
            async with asyncio.timeout(1.0):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
                await client.aclose()
        except (RedisError, OSError, TimeoutError):
            pass
