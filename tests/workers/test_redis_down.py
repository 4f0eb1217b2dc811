"""Redis is an accelerator: with it refused or silent, the API still answers from PostgreSQL."""

from __future__ import annotations

import socket
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
async def test_reads_and_writes_are_served_from_postgres_without_redis(
    settings: Settings, keys: Keys, silent_redis: str, how: str
) -> None:
    url = "unix:///nonexistent/redis.sock" if how == "refused" else silent_redis
    broken = msgspec.structs.replace(settings, redis_url=url, redis_timeout=0.2)
    _, buyer = await keys.make("buyer")
    async with AsyncTestClient(app=create_app(broken)) as client:
        created = await client.post(
            "/api/v1/needs", json={"title": "Snöröjning", "kommun": "2580"}, headers=buyer
        )
        assert created.status_code == 201
        need_id = created.json()["id"]
        # Straight from PostgreSQL: the new need's ranking is queued, so its list is pending.
        for _ in range(5):
            matches = await client.get(f"/api/v1/needs/{need_id}/matches", headers=buyer)
            assert matches.status_code == 200
            assert matches.json() == {"need_id": need_id, "status": "pending", "matches": []}
        listed = await client.get("/api/v1/needs", params={"buyer_id": created.json()["buyer_id"]})
        assert listed.status_code == 200 and [n["id"] for n in listed.json()["items"]] == [need_id]
        ready = (await client.get("/ready")).json()
    assert ready["redis"] == "down" and ready["postgres"] == "ok" and ready["status"] == "degraded"
