"""Cached lists with the API and the worker in processes of their own, at once: what the worker
commits (a ranking, a deadline closing) and what another API process writes reaches the
answers of an API process that serves the lists from Redis without asking PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from worker_testkit import make_supplier

from asfmatch.storage.settings import Settings
from testkit import Keys

pytestmark = pytest.mark.slow

API = "/api/v1"
GIVE_UP_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ASFMATCH_REDIS_PREFIX": settings.redis_prefix,
        "ASFMATCH_DATA_DIR": str(tmp_path),
        "ASFMATCH_LOG_LEVEL": "WARNING",
        "ASFMATCH_WORKER_POLL_SECONDS": "0.2",
        "ASFMATCH_DEADLINE_CHECK_SECONDS": "0.5",
    }


async def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "asfmatch", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            assert process.poll() is None, "the API process exited"
            try:
                if (await http.get(f"{base}/ready")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the API process did not start")


@pytest.fixture
async def processes(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Two `asfmatch serve` processes and one `asfmatch worker`, on this test's database and
    Redis prefix: the bases of the two APIs."""
    env = _env(settings, tmp_path)
    started: list[subprocess.Popen[bytes]] = []
    try:
        reader, reader_base = await _serve(env)
        started.append(reader)
        writer, writer_base = await _serve(env)
        started.append(writer)
        started.append(subprocess.Popen([sys.executable, "-m", "asfmatch", "worker"], env=env))
        yield reader_base, writer_base
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


async def _until(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], done: Callable[[Any], bool]
) -> list[Any]:
    """GET `path` until `done(body)`; every body seen, the last one done."""
    seen: list[Any] = []
    deadline = asyncio.get_running_loop().time() + GIVE_UP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        response = await http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if done(seen[-1]):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never got there; last answer {seen[-1] if seen else None}")


async def test_worker_commits_and_other_processes_writes_reach_the_cached_answers(
    settings: Settings, keys: Keys, processes: tuple[str, str]
) -> None:
    reader_base, writer_base = processes
    supplier = await make_supplier(keys, "Städkooperativet Trean")
    _, buyer = await keys.make("buyer", "Luleå kommun")
    async with (
        httpx.AsyncClient(base_url=reader_base) as reader,
        httpx.AsyncClient(base_url=writer_base) as writer,
    ):
        posted = await writer.post(
            f"{API}/needs",
            json={
                "title": "Lokalvård av förskolor",
                "description": "Städning av tre förskolor, daglig lokalvård och fönsterputs.",
                "cpv_codes": ["90919200"],
                "kommun": "2580",
            },
            headers=buyer,
        )
        assert posted.status_code == 201, posted.text
        need = posted.json()["id"]
        path = f"{API}/needs/{need}/matches"
        # The worker ranks it: the reader's cached "pending" gives way to the ranked list.
        seen = await _until(reader, path, buyer, lambda body: body["status"] == "ready")
        assert [m["supplier_id"] for m in seen[-1]["matches"]] == [supplier]
        assert all(body["status"] == "pending" for body in seen[:-1])
        # Served from the cache now, and unchanged.
        for _ in range(5):
            assert (await reader.get(path, headers=buyer)).json() == seen[-1]
        listing = f"{API}/needs?status=open"
        assert [n["id"] for n in (await reader.get(listing)).json()["items"]] == [need]
        await reader.get(listing)
        # Moved through the other API process where nobody serves: once the reader has shown
        # the change it never goes back to the old list.
        moved = await writer.patch(f"{API}/needs/{need}", json={"kommun": "0180"}, headers=buyer)
        assert moved.status_code == 200
        seen = await _until(
            reader,
            path,
            buyer,
            lambda body: body == {"need_id": need, "status": "ready", "matches": []},
        )
        changed = next(i for i, body in enumerate(seen) if body["matches"] == [])
        assert all(body["matches"] == [] for body in seen[changed:])
        # The worker closes it at its deadline (written straight to the table, as a notice
        # import would): it leaves the public list of open needs.
        await keys.db.execute(
            "UPDATE needs SET closes_at = now() - interval '1 second' WHERE id = $1", need
        )
        await _until(reader, listing, {}, lambda body: body["items"] == [])
        assert await keys.db.fetchval("SELECT status FROM needs WHERE id = $1", need) == "closed"
