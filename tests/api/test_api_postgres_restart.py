"""A PostgreSQL restart is a 503 with Retry-After, never a 500, and the API recovers without a
restart of its own. Runs on an embedded PostgreSQL of its own, so restarting it disturbs no
other test."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from api_testkit import API, assert_problem, need_body
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.storage.db import connect
from asfmatch.storage.embedded import EmbeddedPostgres
from asfmatch.storage.migrations import migrate
from asfmatch.storage.settings import Settings
from testkit import Keys

pytestmark = pytest.mark.slow

# Requests that must succeed in a row, after the restart, for the API to count as recovered.
RECOVERED_AFTER = 20
# Bounds the loop if the API never recovers (the test then fails, it does not hang).
MAX_REQUESTS = 5000


@pytest.fixture
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    """An embedded PostgreSQL for this test alone, migrated (unix sockets want a short path)."""
    with tempfile.TemporaryDirectory(prefix="asfm", dir="/tmp") as directory:
        postgres = EmbeddedPostgres(Path(directory))
        url = postgres.start()
        try:
            asyncio.run(_migrate(url))
            yield postgres, url
        finally:
            postgres.stop()


async def _migrate(url: str) -> None:
    connection = await connect(url)
    try:
        await migrate(connection)
    finally:
        await connection.close()


@pytest.fixture
async def restart_client(
    own_postgres: tuple[EmbeddedPostgres, str], redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[AsyncTestClient, dict[str, str], dict[str, str]]]:  # type: ignore[type-arg]
    """The API on that server, and the auth headers of a buyer and of an admin."""
    _, url = own_postgres
    connection = await connect(url)
    try:
        keys = Keys(connection)
        _, buyer = await keys.make("buyer")
        _, admin = await keys.make("admin")
    finally:
        await connection.close()
    settings = Settings(
        database_url=url,
        redis_url=redis_url,
        data_dir=tmp_path,
        redis_prefix=f"test:{uuid.uuid4().hex[:12]}:",
        db_acquire_timeout=1.0,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client, buyer, admin


def _assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "2"


async def test_requests_while_postgres_is_down_are_503_with_retry_after(
    own_postgres, restart_client
):
    postgres, url = own_postgres
    client, buyer, _ = restart_client
    assert (await client.get(f"{API}/me", headers=buyer)).status_code == 200
    await asyncio.to_thread(postgres.stop)
    try:
        # A guarded write (the guard's lookup fails), a public read (the connection dependency
        # fails) and a write whose pooled connection the shutdown cut.
        _assert_unavailable(await client.post(f"{API}/needs", json=need_body(), headers=buyer))
        _assert_unavailable(await client.get(f"{API}/needs"))
        _assert_unavailable(await client.get(f"{API}/me", headers=buyer))
    finally:
        assert await asyncio.to_thread(postgres.start) == url
    assert (await client.get(f"{API}/me", headers=buyer)).status_code == 200
    created = await client.post(f"{API}/needs", json=need_body(), headers=buyer)
    assert created.status_code == 201, created.text


async def test_a_restart_under_load_gives_no_5xx_but_503_and_the_api_recovers(
    own_postgres, restart_client
):
    postgres, _ = own_postgres
    client, buyer, _ = restart_client
    responses: list[httpx.Response] = []
    restarted = asyncio.Event()

    async def call(position: int) -> httpx.Response:
        if position % 2:
            return await client.post(f"{API}/needs", json=need_body(), headers=buyer)
        return await client.get(f"{API}/me", headers=buyer)

    async def restart() -> None:
        try:
            await asyncio.to_thread(postgres.restart)
        finally:
            restarted.set()

    restarting = None
    streak = 0
    try:
        for position in range(MAX_REQUESTS):
            if position == 10:
                restarting = asyncio.create_task(restart())
            response = await call(position)
            responses.append(response)
            streak = streak + 1 if response.status_code < 500 else 0
            if restarted.is_set() and streak >= RECOVERED_AFTER:
                break
            await asyncio.sleep(0)  # let the restart task's thread hand back
    finally:
        # Never leave the restart running into the fixture's teardown.
        if restarting is not None:
            await restarting
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 201, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            _assert_unavailable(response)
    assert streak >= RECOVERED_AFTER, f"not recovered after {len(statuses)} requests"
