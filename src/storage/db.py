"""The asyncpg pool: JSON codecs and the shape every repository relies on."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg
import msgspec

from asfmatch.storage.settings import Settings

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # Repositories take either a plain connection or one borrowed from a pool.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection


# What asyncpg raises while PostgreSQL restarts, is unreachable or has no connection to spare: a
# retry in a moment may well succeed, so the API answers 503, not 500.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # 08xxx, e.g. ConnectionDoesNotExistError mid-query
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # a fast shutdown ends the sessions
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # the client side of a closed connection or pool
    # A connection cut mid-operation can be left in a state asyncpg then refuses to use.
    asyncpg.exceptions.InternalClientError,
    OSError,  # refused, socket file gone (FileNotFoundError), pool acquire timed out (TimeoutError)
)


async def _init_connection(connection: Connection) -> None:
    # jsonb columns come back as Python values and go in from them, via msgspec (fast, strict).
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def _rollback_if_open(connection: Connection) -> None:
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def create_pool(
    database_url: str, settings: Settings, *, light_reset: bool = False
) -> asyncpg.Pool:
    """Open a pool whose connections decode jsonb and time out instead of hanging.

    `light_reset` (the API's pool): a released connection is only rolled back if a transaction
    is open, instead of asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL),
    a round trip per request. The API holds no session state on pooled connections: no advisory
    locks, no LISTEN (storage/stream_hub.py has its own connection), no session settings."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_rollback_if_open if light_reset else None,
        command_timeout=30,
    )
    assert pool is not None
    return pool


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool (for CLI commands and the worker)."""
    connection = await asyncpg.connect(database_url)
    await _init_connection(connection)
    return connection
