"""A request whose transaction loses a deadlock is replayed, body and all; one that keeps
losing gets 503 with Retry-After, never 500."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from asfmatch.api.errors import EXCEPTION_HANDLERS
from asfmatch.api.retry import ATTEMPTS, CONFLICT_HANDLERS, TransactionRetry


def _app(failures: int, seen: list[dict[str, Any]]) -> Litestar:
    @post("/echo", status_code=200)
    async def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        seen.append(data)
        if len(seen) <= failures:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return data

    return Litestar(
        route_handlers=[echo],
        middleware=[TransactionRetry()],
        exception_handlers={**EXCEPTION_HANDLERS, **CONFLICT_HANDLERS},  # type: ignore[arg-type]
    )


async def test_a_request_that_lost_a_deadlock_is_replayed_with_its_body() -> None:
    seen: list[dict[str, Any]] = []
    async with AsyncTestClient(app=_app(2, seen)) as client:
        response = await client.post("/echo", json={"title": "Lokalvård"})
    assert response.status_code == 200
    assert response.json() == {"title": "Lokalvård"}
    assert seen == [{"title": "Lokalvård"}] * 3
    assert "x-asfmatch-retryable" not in response.headers


async def test_a_request_that_keeps_losing_gets_503_with_retry_after() -> None:
    seen: list[dict[str, Any]] = []
    async with AsyncTestClient(app=_app(100, seen)) as client:
        response = await client.post("/echo", json={"title": "Lokalvård"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "x-asfmatch-retryable" not in response.headers
    assert len(seen) == ATTEMPTS
