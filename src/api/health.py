"""Liveness (/health) and readiness (/ready). Both are unauthenticated and unlimited, so both stay
cheap: /health touches nothing outside this process; /ready asks PostgreSQL and Redis, but reads
only the partial indexes on live job states (no table scans)."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from asfmatch.api.state import resources
from asfmatch.storage import jobs
from asfmatch.storage.migrations import pending_migrations


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """This process is up and its event loop answers. Whether it can serve: /ready."""

    status: str


_ALIVE = Health(status="ok")


@get(
    "/health",
    summary="Liveness: this process answers (no database or Redis call; see /ready)",
    tags=["health"],
)
async def health() -> Health:
    return _ALIVE


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Ready when PostgreSQL answers and has every migration this code ships. Redis only speeds
    things up, so without it `status` is degraded but the instance is still ready."""

    ready: bool
    status: str
    detail: str
    postgres: str
    redis: str
    # Queued, running and failed jobs (states with none are left out).
    jobs: dict[str, int]


@get(
    "/ready",
    summary="Readiness for traffic (for load balancers): PostgreSQL, migrations, Redis, job counts",
    tags=["health"],
)
async def ready(state: State) -> Response[Readiness]:
    app = resources(state)
    redis = "ok" if await app.redis.ping() else "down"
    try:
        async with asyncio.timeout(2), app.pool.acquire() as connection:
            pending = await pending_migrations(connection)
            job_counts = await jobs.counts(connection)
    except (OSError, TimeoutError, Exception) as error:
        down = f"down: {type(error).__name__}"
        return Response(
            Readiness(
                ready=False,
                status="down",
                detail=f"PostgreSQL unavailable: {type(error).__name__}",
                postgres=down,
                redis=redis,
                jobs={},
            ),
            status_code=503,
            headers={"Retry-After": "1"},
        )
    status = "ok" if redis == "ok" else "degraded"
    if pending:
        return Response(
            Readiness(
                ready=False,
                status=status,
                detail=f"pending migrations: {', '.join(pending)}",
                postgres="ok",
                redis=redis,
                jobs=job_counts,
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return Response(
        Readiness(
            ready=True, status=status, detail="ok", postgres="ok", redis=redis, jobs=job_counts
        )
    )
