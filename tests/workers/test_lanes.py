"""Scheduled work runs on its own clock: needs past their deadline close while the queue is
still full of rankings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from worker_testkit import make_need

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
