"""Liveness of the service and of what it depends on."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from asfmatch.api.state import resources
from asfmatch.storage import jobs


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """PostgreSQL is required; Redis only speeds things up, so without it the status is degraded."""

    status: str
    postgres: str
    redis: str
    jobs: dict[str, int]


@get("/health", summary="Health of the API, PostgreSQL and Redis", tags=["health"])
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
