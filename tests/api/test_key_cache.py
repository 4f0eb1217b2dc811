"""API keys are remembered in each process's memory (api/principals.py), and a revocation still
reaches every process: the revoking one at once, the others when PostgreSQL's NOTIFY arrives."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from api_testkit import API, World, assert_problem

from asfmatch.storage.settings import Settings

# Far beyond the second the revocation should take: reaching it means it never arrived.
GIVE_UP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[str]:
    """`asfmatch serve` in a process of its own, on this test's database and Redis prefix."""
    assert settings.database_url and settings.redis_url
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ASFMATCH_REDIS_PREFIX": settings.redis_prefix,
        "ASFMATCH_DATA_DIR": str(settings.data_dir),
        "ASFMATCH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "asfmatch", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                assert process.poll() is None, "the other process exited"
                try:
                    if (await http.get(f"{base}/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_a_key_revoked_in_one_process_is_refused_by_another(
    client, world: World, other_process: str
):
    url = f"{API}/organisations/{world.buyer.org_id}/keys"
    created = (await client.post(url, headers=world.buyer.headers)).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    async with httpx.AsyncClient(base_url=other_process) as other:
        # The other process now holds the key in memory.
        for _ in range(3):
            assert (await other.get(f"{API}/me", headers=key)).status_code == 200
        revoked = await client.delete(
            f"{url}/{created['api_key']['id']}", headers=world.buyer.headers
        )
        assert revoked.status_code == 200
        assert_problem(await client.get(f"{API}/me", headers=key), 401)
        deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
        status = 200
        while asyncio.get_running_loop().time() < deadline:
            status = (await other.get(f"{API}/me", headers=key)).status_code
            if status == 401:
                break
            await asyncio.sleep(0.05)
        assert status == 401, "the other process still accepts the revoked key"
        # Its other keys are untouched.
        assert (await other.get(f"{API}/me", headers=world.buyer.headers)).status_code == 200


async def test_a_revocation_written_outside_the_api_is_heard_by_the_api(client, world: World, db):
    url = f"{API}/organisations/{world.buyer.org_id}/keys"
    created = (await client.post(url, headers=world.buyer.headers)).json()
    key = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get(f"{API}/me", headers=key)).status_code == 200
    await db.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1", created["api_key"]["id"]
    )
    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    status = 200
    while asyncio.get_running_loop().time() < deadline:
        status = (await client.get(f"{API}/me", headers=key)).status_code
        if status == 401:
            break
        await asyncio.sleep(0.05)
    assert status == 401
