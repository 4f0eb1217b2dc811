"""The PostgreSQL job queue: transactional enqueue, one claimer per job, leases, retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from itertools import pairwise

import asyncpg
import pytest

from asfmatch.storage import jobs
from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(
    db: asyncpg.Connection,
) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await jobs.enqueue(db, jobs.RANK_NEED, 1)
            raise RuntimeError("the write failed")
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_repeated_enqueues_of_one_entity_coalesce_into_one_queued_job(
    db: asyncpg.Connection,
) -> None:
    for _ in range(10):
        await jobs.enqueue(db, jobs.RANK_NEED, 7)
    await jobs.enqueue(db, jobs.RANK_NEED, 8)
    rows = await db.fetch("SELECT entity_id FROM jobs WHERE state = 'queued' ORDER BY entity_id")
    assert [r["entity_id"] for r in rows] == [7, 8]


async def test_concurrent_claims_hand_each_job_to_exactly_one_worker(
    database_url: str, settings: Settings, db: asyncpg.Connection
) -> None:
    for entity in range(20):
        await jobs.enqueue(db, jobs.RANK_NEED, entity)
    pool = await create_pool(database_url, settings)
    try:

        async def claim_all(worker: str) -> list[int]:
            claimed = []
            while True:
                async with pool.acquire() as connection:
                    job = await jobs.claim(connection, worker, 30, [jobs.RANK_NEED])
                if job is None:
                    return claimed
                claimed.append(job.entity_id)

        first, second, third = await asyncio.gather(claim_all("a"), claim_all("b"), claim_all("c"))
    finally:
        await pool.close()
    assert sorted(first + second + third) == list(range(20))


async def test_a_job_whose_lease_ran_out_is_taken_over_and_the_old_holder_cannot_complete_it(
    db: asyncpg.Connection,
) -> None:
    await jobs.enqueue(db, jobs.RANK_NEED, 1)
    held = await jobs.claim(db, "dead-worker", 0.2, [jobs.RANK_NEED])
    assert held is not None
    assert await jobs.claim(db, "other", 30, [jobs.RANK_NEED]) is None, "lease still valid"
    await asyncio.sleep(0.3)
    taken = await jobs.claim(db, "other", 30, [jobs.RANK_NEED])
    assert taken is not None and taken.id == held.id and taken.attempts == 2
    assert not await jobs.complete(db, held.id, "dead-worker")
    assert await jobs.complete(db, taken.id, "other")


async def test_a_second_job_for_an_entity_waits_while_the_first_runs(
    db: asyncpg.Connection,
) -> None:
    await jobs.enqueue(db, jobs.RANK_NEED, 1)
    running = await jobs.claim(db, "a", 30, [jobs.RANK_NEED])
    assert running is not None
    await jobs.enqueue(db, jobs.RANK_NEED, 1)  # a new write while the job runs
    assert await jobs.claim(db, "b", 30, [jobs.RANK_NEED]) is None
    assert await jobs.complete(db, running.id, "a")
    follow_up = await jobs.claim(db, "b", 30, [jobs.RANK_NEED])
    assert follow_up is not None and follow_up.id != running.id


async def test_a_failed_job_is_retried_later_and_given_up_after_max_attempts(
    db: asyncpg.Connection,
) -> None:
    await jobs.enqueue(db, jobs.RANK_NEED, 1)
    await db.execute("UPDATE jobs SET max_attempts = 2")
    job = await jobs.claim(db, "a", 30, [jobs.RANK_NEED])
    assert job is not None
    assert await jobs.fail(db, job, "a", "boom") == "retry"
    row = await db.fetchrow("SELECT state, run_at - now() AS wait, last_error FROM jobs")
    assert row["state"] == "queued" and row["last_error"] == "boom"
    assert timedelta(seconds=0.5) < row["wait"] < timedelta(seconds=2)
    assert await jobs.claim(db, "a", 30, [jobs.RANK_NEED]) is None, "not due before its backoff"
    await db.execute("UPDATE jobs SET run_at = now()")
    job = await jobs.claim(db, "a", 30, [jobs.RANK_NEED])
    assert job is not None and job.attempts == 2
    assert await jobs.fail(db, job, "a", "boom again") == "failed"
    assert await db.fetchval("SELECT state FROM jobs") == "failed"


async def test_a_failed_job_is_superseded_when_a_newer_one_is_queued(
    db: asyncpg.Connection,
) -> None:
    await jobs.enqueue(db, jobs.RANK_NEED, 1)
    job = await jobs.claim(db, "a", 30, [jobs.RANK_NEED])
    assert job is not None
    await jobs.enqueue(db, jobs.RANK_NEED, 1)
    assert await jobs.fail(db, job, "a", "boom") == "superseded"
    states = await db.fetch("SELECT state FROM jobs ORDER BY id")
    assert [r["state"] for r in states] == ["superseded", "queued"]


def test_retry_delays_grow_and_carry_jitter() -> None:
    delays = [jobs.retry_delay(n) for n in range(1, 10)]
    assert all(later >= earlier * 0.8 for earlier, later in pairwise(delays))
    assert delays[0] >= 1.0 and delays[-1] <= 3600 * 1.25
    assert len({jobs.retry_delay(3) for _ in range(20)}) > 1, "jitter spreads retries"
