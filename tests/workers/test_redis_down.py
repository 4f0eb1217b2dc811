"""Redis is an accelerator: with it refused or silent, the API still answers from PostgreSQL."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings
from testkit import Keys


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that completes TCP handshakes and never answers: a hung Redis. A listening
    socket that never accepts does that (the kernel queues the connections), and leaves no
    asyncio transport behind to be collected after the loop is gone (a ResourceWarning that
    made a plain `pytest` run fail)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


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
