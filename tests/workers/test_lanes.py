"""Scheduled work runs on its own clock: needs past their deadline close while the queue is
still full of rankings; a job that outlives its kind's timeout fails instead of holding a slot."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import asyncpg
from worker_testkit import make_need

from asfmatch.storage import jobs
from asfmatch.storage.db import create_pool
from asfmatch.storage.jobs import Job
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from testkit import Keys

BACKLOG = 3000


async def test_a_need_past_its_deadline_closes_while_a_backlog_waits(
    settings: Settings, db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer")
    need = await make_need(keys, buyer, closes_at=datetime.now(UTC) - timedelta(minutes=1))
    # Rankings of suppliers that do not exist: quick each, but thousands of them.
    await db.execute(
        """
        INSERT INTO jobs (kind, entity_id)
        SELECT 'rank_supplier', n FROM generate_series(1000000, 1000000 + $1 - 1) n
        """,
        BACKLOG,
    )
    assert settings.database_url is not None
    worker = Worker(settings, settings.database_url)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(60):
            while await db.fetchval("SELECT status FROM needs WHERE id = $1", need) == "open":  # noqa: ASYNC110 - polling the database, no event to wait on
                await asyncio.sleep(0.05)
        waiting = await db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = 'rank_supplier' AND state = 'queued'"
        )
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert waiting > BACKLOG // 2, f"the deadline waited for the backlog ({waiting} left)"


async def test_a_job_that_outlives_its_kinds_timeout_fails_and_frees_its_slot(
    settings: Settings, database_url: str, db: asyncpg.Connection
) -> None:
    async def stuck(pool: asyncpg.Pool, job: Job) -> None:
        await asyncio.sleep(3600)

    worker = Worker(settings, database_url)
    worker.kinds[jobs.RANK_NEED] = dataclasses.replace(
        worker.kinds[jobs.RANK_NEED], handler=stuck, timeout_seconds=0.2, attempts=1
    )
    await jobs.enqueue(db, jobs.RANK_NEED, 7)
    pool = await create_pool(database_url, settings)
    try:
        assert await worker.run_one(pool)
    finally:
        await pool.close()
    row = await db.fetchrow("SELECT state, last_error FROM jobs WHERE entity_id = 7")
    assert row is not None and row["state"] == "failed"
    assert "took longer than 0.2 s" in row["last_error"]
