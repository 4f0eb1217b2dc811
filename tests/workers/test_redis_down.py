"""Redis is an accelerator: with it refused or silent, the API still answers from PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings
from testkit import Keys


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(-1)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()


@pytest.mark.parametrize("how", ["refused", "silent"])
async def test_reads_and_writes_work_without_redis_within_a_small_timeout(
    settings: Settings, keys: Keys, silent_redis: str, how: str
) -> None:
    url = "unix:///nonexistent/redis.sock" if how == "refused" else silent_redis
    broken = msgspec.structs.replace(settings, redis_url=url, redis_timeout=0.2)
    _, buyer = await keys.make("buyer")
    async with AsyncTestClient(app=create_app(broken)) as client:
        started = time.perf_counter()
        created = await client.post(
            "/api/v1/needs", json={"title": "Snöröjning", "kommun": "2580"}, headers=buyer
        )
        assert created.status_code == 201
        need_id = created.json()["id"]
        for _ in range(5):
            matches = await client.get(f"/api/v1/needs/{need_id}/matches", headers=buyer)
            assert matches.status_code == 200
        health = (await client.get("/health")).json()
        elapsed = time.perf_counter() - started
    assert (
        health["redis"] == "down" and health["postgres"] == "ok" and health["status"] == "degraded"
    )
    # One timeout, then the cool-off skips Redis: seven requests well under a second each.
    assert elapsed < 3.0
