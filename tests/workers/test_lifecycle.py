"""Data lifecycle: what is only kept for a while is pruned, /health and /ready stay cheap, and a
ranking that failed for good shows as `failed`, until it is requeued."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from worker_testkit import make_need, make_supplier

from asfmatch.storage import jobs
from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers import housekeeping
from testkit import Keys


async def _old_and_new_rows(db: asyncpg.Connection, keys: Keys) -> None:
    supplier = await make_supplier(keys, "Städkooperativet")
    await db.execute(
        """
        INSERT INTO jobs (kind, entity_id, state, finished_at) VALUES
            ('rank_need', 1, 'done', now() - interval '8 days'),
            ('rank_need', 2, 'superseded', now() - interval '8 days'),
            ('rank_need', 3, 'done', now() - interval '1 day'),
            ('rank_need', 4, 'failed', now() - interval '60 days'),
            ('rank_need', 5, 'queued', NULL)
        """
    )
    endpoint = await db.fetchval(
        "INSERT INTO webhook_endpoints (supplier_id, url) VALUES ($1, 'https://example.org/h') "
        "RETURNING id",
        supplier,
    )
    for webhook_id, state, age in (
        ("msg_old", "delivered", "31 days"),
        ("msg_old_failed", "failed", "40 days"),
        ("msg_recent", "delivered", "2 days"),
        ("msg_pending", "pending", "0 days"),
    ):
        message = await db.fetchval(
            """
            INSERT INTO webhook_messages (webhook_id, endpoint_id, event_type, body, state,
                                          finished_at)
            VALUES ($1, $2, 'need.matched', '{}', $3,
                    CASE WHEN $3 = 'pending' THEN NULL ELSE now() - $4::text::interval END)
            RETURNING id
            """,
            webhook_id,
            endpoint,
            state,
            age,
        )
        await db.execute(
            "INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, outcome, duration_ms) "
            "VALUES ($1, $2, 1, 'failed', 5)",
            message,
            endpoint,
        )
    await db.execute(
        "INSERT INTO notification_quota (supplier_id, day, pushed) VALUES "
        "($1, current_date - 10, 3), ($1, current_date, 1)",
        supplier,
    )


async def test_retention_prunes_only_what_is_past_its_time(
    settings: Settings, database_url: str, db: asyncpg.Connection, keys: Keys
) -> None:
    await _old_and_new_rows(db, keys)
    pool = await create_pool(database_url, settings)
    try:
        await housekeeping.prune(pool, settings)
    finally:
        await pool.close()
    left = await db.fetch("SELECT entity_id FROM jobs ORDER BY entity_id")
    # Recent done, failed (kept until requeued or settled) and queued jobs stay.
    assert [row["entity_id"] for row in left] == [3, 4, 5]
    messages = await db.fetch("SELECT webhook_id FROM webhook_messages ORDER BY webhook_id")
    assert [row["webhook_id"] for row in messages] == ["msg_pending", "msg_recent"]
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 2
    assert await db.fetchval("SELECT count(*) FROM notification_quota") == 1


async def test_retention_follows_its_settings(
    settings: Settings, database_url: str, db: asyncpg.Connection, keys: Keys
) -> None:
    await _old_and_new_rows(db, keys)
    keep_long = msgspec.structs.replace(
        settings, retention_jobs_days=30, retention_webhook_days=90, retention_counter_days=30
    )
    pool = await create_pool(database_url, keep_long)
    try:
        await housekeeping.prune(pool, keep_long)
    finally:
        await pool.close()
    assert await db.fetchval("SELECT count(*) FROM jobs") == 5
    assert await db.fetchval("SELECT count(*) FROM webhook_messages") == 4
    assert await db.fetchval("SELECT count(*) FROM notification_quota") == 2


async def test_ready_counts_only_open_and_failed_jobs_and_checks_the_schema(
    client: AsyncTestClient,  # type: ignore[type-arg]
    db: asyncpg.Connection,
    keys: Keys,
) -> None:
    await _old_and_new_rows(db, keys)
    ready = await client.get("/ready")
    assert ready.json()["jobs"] == {"queued": 1, "failed": 1}
    assert ready.status_code == 200 and ready.json()["ready"] is True
    await db.execute("DELETE FROM schema_migrations WHERE version = 6")
    unready = await client.get("/ready")
    assert unready.status_code == 503
    assert "006_" in unready.json()["detail"] and unready.headers["retry-after"]


async def test_a_ranking_that_failed_for_good_shows_its_list_as_failed_until_requeued(
    client: AsyncTestClient,  # type: ignore[type-arg]
    db: asyncpg.Connection,
    keys: Keys,
) -> None:
    buyer, headers = await keys.make("buyer")
    need = await make_need(keys, buyer)
    await jobs.enqueue(db, jobs.RANK_NEED, need)
    job = await jobs.claim(db, "w", 30, [jobs.RANK_NEED])
    assert job is not None
    assert await jobs.fail(db, job, "w", "RuntimeError: boom", max_attempts=1) == "failed"
    path = f"/api/v1/needs/{need}/matches"
    assert (await client.get(path, headers=headers)).json()["status"] == "failed"
    assert await jobs.requeue(db, job.id) == "requeued"
    await _until_status(client, path, headers, "pending")
    again = await jobs.claim(db, "w", 30, [jobs.RANK_NEED])
    assert again is not None and again.attempts == 1
    assert await jobs.complete(db, again.id, "w")
    await _until_status(client, path, headers, "ready")


async def _until_status(
    client: AsyncTestClient,  # type: ignore[type-arg]
    path: str,
    headers: dict[str, str],
    expected: str,
) -> None:
    """Read the list until its status is `expected`; TimeoutError after 5 s. The cached list
    may be served until the commit's announcement reaches the app (storage/list_versions.py),
    and on a loaded machine that took longer than the next request."""
    async with asyncio.timeout(5):
        while (await client.get(path, headers=headers)).json()["status"] != expected:  # noqa: ASYNC110 - polling the API
            await asyncio.sleep(0.05)
