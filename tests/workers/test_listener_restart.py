"""After a PostgreSQL restart the worker hears NOTIFY again: its LISTEN connection reconnects
(and says so), so a new job runs at once rather than at the next poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from asfmatch.storage import jobs
from asfmatch.storage.db import connect
from asfmatch.storage.embedded import EmbeddedPostgres
from asfmatch.storage.migrations import migrate
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker

pytestmark = pytest.mark.slow


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL of this test's own: restarting it disturbs no other test. Its data lives
    outside pytest's numbered temporary dirs, which concurrent pytest runs prune."""
    root = Path(tempfile.mkdtemp(prefix="asfrestart-", dir="/tmp"))
    server = EmbeddedPostgres(root)
    try:
        url = await asyncio.to_thread(server.start)
        connection = await connect(url)
        try:
            await migrate(connection)
        finally:
            await connection.close()
        yield server, url
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(root, ignore_errors=True)


async def _connect_when_up(url: str) -> asyncpg.Connection:
    for _ in range(120):
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return await connect(url)
        await asyncio.sleep(0.25)
    raise AssertionError("PostgreSQL did not come back")


async def _job_state(url: str, job_kind: str, entity_id: int) -> str | None:
    connection = await _connect_when_up(url)
    try:
        state: str | None = await connection.fetchval(
            "SELECT state FROM jobs WHERE kind = $1 AND entity_id = $2", job_kind, entity_id
        )
        return state
    finally:
        await connection.close()


async def test_the_worker_hears_new_jobs_after_a_postgres_restart(
    own_postgres: tuple[EmbeddedPostgres, str],
    redis_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, url = own_postgres
    # A poll this long means only NOTIFY can wake the worker within the test's patience.
    settings = Settings(
        database_url=url,
        redis_url=redis_url,
        data_dir=tmp_path,
        redis_prefix="test:restart:",
        worker_poll_seconds=3600,
        job_lease_seconds=2.0,
    )
    worker = Worker(settings, url)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    caplog.set_level(logging.INFO, logger="asfmatch.workers.runner")
    try:
        connection = await _connect_when_up(url)
        try:
            await jobs.enqueue(connection, jobs.RANK_NEED, 1)  # no such need: a quick no-op
        finally:
            await connection.close()
        for _ in range(600):
            if await _job_state(url, jobs.RANK_NEED, 1) == "done":
                break
            await asyncio.sleep(0.1)
        assert await _job_state(url, jobs.RANK_NEED, 1) == "done"

        await asyncio.to_thread(server.restart)

        connection = await _connect_when_up(url)
        try:
            await jobs.enqueue(connection, jobs.RANK_NEED, 2)
        finally:
            await connection.close()
        for _ in range(600):
            if await _job_state(url, jobs.RANK_NEED, 2) == "done":
                break
            await asyncio.sleep(0.1)
        assert await _job_state(url, jobs.RANK_NEED, 2) == "done", "the worker stayed deaf"
        assert "job listener reconnected" in caplog.text
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
