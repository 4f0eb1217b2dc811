"""Posted needs written in batches (storage/group_commit.py, storage.needs.insert_posted_needs):
each writer gets its own row, a bad row fails only itself, a refused one is told apart, and
nothing a writer was told is written can be missing after a failure or cancel mid-batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import pytest

from asfmatch.storage import needs as repo
from asfmatch.storage.db import CONNECTION_LOST, Connection, create_pool
from asfmatch.storage.group_commit import GroupCommit
from asfmatch.storage.needs import Need
from asfmatch.storage.settings import Settings
from asfmatch.storage.signups import mark_pending
from testkit import Keys

Posted = tuple[int, Mapping[str, object]]


def _fields(title: str, **overrides: Any) -> dict[str, object]:
    fields: dict[str, object] = {
        "title": title,
        "description": "Lokalvård av två förskolor.",
        "cpv_codes": ["90910000"],
        "kommun": "2580",
        "kommuner": ["2580"],
        "estimated_value_sek": None,
        "reserved": False,
        "training_places": 0,
        "closes_at": None,
        "status": "open",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
async def pool(database_url: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, settings, light_reset=True)
    try:
        yield pool
    finally:
        await pool.close()


async def test_concurrent_writers_each_get_their_own_need_and_ranking_job(
    pool: asyncpg.Pool, db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer", "Luleå kommun")
    batches: list[int] = []

    async def counted(connection: Connection, items: list[Posted]) -> list[Need | None]:
        batches.append(len(items))
        return await repo.insert_posted_needs(connection, items)

    writer = GroupCommit(pool, counted, acquire_timeout=5)
    titles = [f"Behov {n}" for n in range(40)]
    needs = await asyncio.gather(*(writer.submit((buyer, _fields(t))) for t in titles))
    assert [need.title if need else None for need in needs] == titles
    assert len({need.id for need in needs if need}) == 40
    assert all(need and need.buyer_name == "Luleå kommun" for need in needs)
    # Concurrent writers share statements (the first may go alone).
    assert sum(batches) == 40 and len(batches) < 40
    stored = await db.fetch("SELECT id, title FROM needs ORDER BY id")
    assert {(r["id"], r["title"]) for r in stored} == {(n.id, n.title) for n in needs if n}
    queued = await db.fetch("SELECT entity_id FROM jobs WHERE kind = 'rank_need'")
    assert sorted(r["entity_id"] for r in queued) == sorted(n.id for n in needs if n)


async def test_a_row_that_fails_does_not_fail_the_others_in_its_batch(
    pool: asyncpg.Pool, db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer")
    writer = GroupCommit(pool, repo.insert_posted_needs, acquire_timeout=5)
    # Past the table's CHECK on title length: the whole statement fails on it.
    posted = [_fields("Först"), _fields("x" * 300), _fields("Sist")]
    results = await asyncio.gather(
        *(writer.submit((buyer, fields)) for fields in posted), return_exceptions=True
    )
    assert isinstance(results[1], asyncpg.CheckViolationError)
    assert [getattr(r, "title", None) for r in (results[0], results[2])] == ["Först", "Sist"]
    titles = await db.fetch("SELECT title FROM needs ORDER BY id")
    assert [r["title"] for r in titles] == ["Först", "Sist"]
    assert await db.fetchval("SELECT count(*) FROM jobs") == 2


async def test_needs_of_a_pending_or_non_buyer_organisation_are_refused_alone(
    pool: asyncpg.Pool, db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer")
    pending, _ = await keys.make("buyer")
    await mark_pending(db, pending)
    supplier, _ = await keys.make("supplier")
    writer = GroupCommit(pool, repo.insert_posted_needs, acquire_timeout=5)
    posted: list[Posted] = [
        (buyer, _fields("Köpt")),
        (pending, _fields("Väntar")),
        (pending, _fields("Utkast", status="draft")),
        (supplier, _fields("Fel sort")),
    ]
    results = await asyncio.gather(*(writer.submit(item) for item in posted))
    assert [r.title if r else None for r in results] == ["Köpt", None, "Utkast", None]
    # The draft is written but not ranked; only the open need queued a job.
    jobs = await db.fetch("SELECT entity_id FROM jobs")
    assert [r["entity_id"] for r in jobs] == [results[0].id if results[0] else None]


async def test_nothing_acknowledged_is_lost_when_batches_are_cut_or_cancelled(
    pool: asyncpg.Pool, db: asyncpg.Connection, keys: Keys
) -> None:
    buyer, _ = await keys.make("buyer")
    calls = 0
    writers: list[asyncio.Task[Any]] = []

    async def unreliable(connection: Connection, items: list[Posted]) -> list[Need | None]:
        nonlocal calls
        calls += 1
        if calls % 3 == 1:
            # PostgreSQL cuts this session mid-batch: the statement's fate is unknown.
            await db.execute("SELECT pg_terminate_backend($1)", connection.get_server_pid())
        elif calls % 3 == 2:
            # The batch's task is cancelled (a shutdown) while its statement may be running.
            writers.append(asyncio.current_task())  # type: ignore[arg-type]
            asyncio.get_running_loop().call_later(0.001, writers[-1].cancel)
        return await repo.insert_posted_needs(connection, items)

    writer = GroupCommit(pool, unreliable, acquire_timeout=5, max_batch=4)
    titles = [f"Behov {n}" for n in range(24)]
    submitted = [asyncio.create_task(writer.submit((buyer, _fields(t)))) for t in titles]
    # A writer that gives up while waiting for its batch is not written.
    await asyncio.sleep(0)
    submitted[-1].cancel()
    results = await asyncio.wait_for(asyncio.gather(*submitted, return_exceptions=True), timeout=30)
    await writer.close()
    acknowledged = [r for r in results if isinstance(r, Need)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert acknowledged and failed
    assert all(isinstance(e, (*CONNECTION_LOST, asyncio.CancelledError)) for e in failed)
    stored = {r["id"]: r["title"] for r in await db.fetch("SELECT id, title FROM needs")}
    assert all(stored.get(need.id) == need.title for need in acknowledged)
    assert titles[-1] not in stored.values()
