"""Liveness of the service and of what it depends on (/health), and readiness to take traffic
(/ready). Both are unauthenticated, so both read only what is cheap: no table scans."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from asfmatch.api.state import resources
from asfmatch.storage import jobs
from asfmatch.storage.migrations import pending_migrations


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """PostgreSQL is required; Redis only speeds things up, so without it the status is degraded."""

    status: str
    postgres: str
    redis: str
    jobs: dict[str, int]


@get(
    "/health",
    summary="Health of the API, PostgreSQL and Redis, with queued/running/failed job counts",
    tags=["health"],
)
async def health(state: State) -> Response[Health]:
    app = resources(state)
    postgres = "ok"
    job_counts: dict[str, int] = {}
    try:
        async with asyncio.timeout(2), app.pool.acquire() as connection:
            job_counts = await jobs.counts(connection)
    except (OSError, TimeoutError, Exception) as error:
        postgres = f"down: {type(error).__name__}"
    redis = "ok" if await app.redis.ping() else "down"
    status = (
        "ok" if postgres == "ok" and redis == "ok" else ("degraded" if postgres == "ok" else "down")
    )
    body = Health(
        status=status,
        postgres=postgres,
        redis=redis,
        jobs=job_counts,
    )
    return Response(body, status_code=200 if postgres == "ok" else 503)


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Ready when PostgreSQL answers and has every migration this code ships."""

    ready: bool
    detail: str


@get(
    "/ready",
    summary="Whether this instance can serve requests (for load balancers)",
    tags=["health"],
)
async def ready(state: State) -> Response[Readiness]:
    app = resources(state)
    try:
        async with asyncio.timeout(2), app.pool.acquire() as connection:
            pending = await pending_migrations(connection)
    except (OSError, TimeoutError, Exception) as error:
        return Response(
            Readiness(ready=False, detail=f"PostgreSQL unavailable: {type(error).__name__}"),
            status_code=503,
            headers={"Retry-After": "1"},
        )
    if pending:
        return Response(
            Readiness(ready=False, detail=f"pending migrations: {', '.join(pending)}"),
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return Response(Readiness(ready=True, detail="ok"))
