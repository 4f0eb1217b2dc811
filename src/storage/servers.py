"""Where PostgreSQL and Redis come from: the configured URLs, or embedded servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from asfmatch.storage.settings import Settings


class Servers(msgspec.Struct, frozen=True, kw_only=True):
    """Connection URLs of the running servers and whether each is embedded."""

    database_url: str
    redis_url: str
    embedded_database: bool
    embedded_redis: bool


@asynccontextmanager
async def running_servers(settings: Settings) -> AsyncIterator[Servers]:
    """Yield usable URLs, starting embedded servers for any URL the settings leave unset."""
    postgres: EmbeddedPostgres | None = None
    redis_server: EmbeddedRedis | None = None
    try:
        database_url = settings.database_url
        if database_url is None:
            postgres = EmbeddedPostgres(settings.data_dir)
            database_url = await asyncio.to_thread(postgres.start)
        redis_url = settings.redis_url
        if redis_url is None:
            redis_server = EmbeddedRedis(settings.data_dir)
            redis_url = await asyncio.to_thread(redis_server.start)
        yield Servers(
            database_url=database_url,
            redis_url=redis_url,
            embedded_database=postgres is not None,
            embedded_redis=redis_server is not None,
        )
    finally:
        if redis_server is not None:
            await asyncio.to_thread(redis_server.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
