"""What the app holds for its lifetime, and the per-request dependencies built from it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency

from asfmatch.api.errors import unauthorized
from asfmatch.api.principals import Principals
from asfmatch.services.match_index import IndexKeeper
from asfmatch.services.needs import NeedWriter
from asfmatch.storage.cache import CachedList, MatchCache, NeedsListCache, RateLimiter, RedisGate
from asfmatch.storage.db import CONNECTION_LOST, Connection
from asfmatch.storage.list_versions import ListVersions
from asfmatch.storage.organisations import Principal
from asfmatch.storage.servers import Servers
from asfmatch.storage.settings import Settings
from asfmatch.storage.stream_hub import StreamHub


@dataclass(frozen=True)
class AppResources:
    """Handles opened by the lifespan and closed by it."""

    settings: Settings
    servers: Servers
    pool: asyncpg.Pool
    redis: RedisGate
    cache: MatchCache
    # The public needs list's first pages.
    needs_list: NeedsListCache
    # Which cached entries may be served without PostgreSQL (fences them in Redis too).
    lists: ListVersions
    limiter: RateLimiter
    # Wakes this process's live streams (one LISTEN connection for all of them).
    streams: StreamHub
    # API keys' principals in memory, forgotten when a revocation is heard through `streams`.
    principals: Principals
    # This process's match index, for the potential of draft needs (services/potential.py).
    potential_index: IndexKeeper
    # Posted needs, written in batches (storage/group_commit.py).
    need_writer: NeedWriter


log = logging.getLogger(__name__)

# Where api.limits.RequestLimits (or else `api.guards.requires_key`) leaves the principal it
# authenticated, in the request's state.
PRINCIPAL = "principal"
# Where api.limits.RequestLimits leaves a match list's cache entry it fetched along with the
# rate-limit counts, and the needs list's counter and page.
PREFETCHED = "prefetched_list"
PREFETCHED_NEEDS = "prefetched_needs"


@dataclass(frozen=True)
class Prefetched:
    """A match list's cache entry as fetched and parsed (None: none stored, or a fence) and
    Redis's clock (µs) then."""

    owner: str
    owner_id: int
    found: CachedList | None
    stamp: int


@dataclass(frozen=True)
class PrefetchedNeeds:
    """The needs-list counter and this query string's page as fetched (None: not stored), and
    Redis's clock (µs) then."""

    query_string: bytes
    counter: bytes | None
    entry: bytes | None
    stamp: int


# Handler parameters that Litestar fills from the dependencies of the same name.
Db = NamedDependency[asyncpg.Connection]
# A connection without a transaction (provide_reader), for read-only handlers.
Reader = NamedDependency[asyncpg.Connection]
Caller = NamedDependency[Principal | None]


def resources(state: State) -> AppResources:
    """The app's resources from Litestar's state (set by the lifespan)."""
    found: AppResources = state["resources"]
    return found


@contextlib.asynccontextmanager
async def pooled(app: AppResources) -> AsyncIterator[Connection]:
    """A pooled connection, waited for at most `db_acquire_timeout` (then TimeoutError: 503)."""
    connection = await app.pool.acquire(timeout=app.settings.db_acquire_timeout)
    try:
        yield connection
    finally:
        try:
            await app.pool.release(connection)
        except CONNECTION_LOST as error:
            # Resetting a connection the server cut fails (asyncpg then drops it from the pool);
            # that must not replace the request's own error or answer.
            log.info("dropped a pooled connection PostgreSQL had closed: %r", error)


async def provide_connection(state: State) -> AsyncIterator[Connection]:
    """One connection and one transaction per request: committed when the handler returns,
    rolled back when it raises, so a request's writes and the jobs it queues land together."""
    async with in_transaction(resources(state)) as connection:
        yield connection


@contextlib.asynccontextmanager
async def in_transaction(app: AppResources) -> AsyncIterator[Connection]:
    """A pooled connection in a transaction, committed at the end, rolled back on an error."""
    async with pooled(app) as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        except BaseException:
            # The request's own error is the one to answer with: a rollback on a connection the
            # server cut would fail with another, which Litestar could not map.
            with contextlib.suppress(*CONNECTION_LOST):
                await transaction.rollback()
            raise
        await transaction.commit()


async def provide_reader(state: State) -> AsyncIterator[Connection]:
    """One connection without a transaction, for handlers that only read: each statement sees
    what was committed when it began, as under the default READ COMMITTED, without the BEGIN
    and COMMIT round trips."""
    async with pooled(resources(state)) as connection:
        yield connection


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use the header Authorization: Bearer <api key>")
    return token.strip()


async def provide_principal(request: Request[Any, Any, Any]) -> Principal | None:
    """The calling organisation, None for anonymous calls; 401 for a bad or revoked key.
    On routes guarded by `api.guards.requires_key` the guard has already found it."""
    token = bearer_token(request)
    if token is None:
        return None
    if PRINCIPAL in request.state:
        # Looked up by api.limits.RequestLimits or the guard (None: unknown or revoked).
        principal: Principal | None = request.state[PRINCIPAL]
    else:
        app = resources(request.app.state)
        principal = await app.principals.principal(app.pool, token, app.settings.db_acquire_timeout)
    if principal is None:
        raise unauthorized("unknown or revoked API key")
    return principal
