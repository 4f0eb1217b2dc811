"""The worker's in-memory index never skips a committed write, whatever order transactions
commit in, and nothing inactive or closed is stored or notified."""

from __future__ import annotations

import asyncpg
from worker_testkit import make_need, make_supplier, need_list

from asfmatch.storage.db import connect, create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.ranking import Ranker
from testkit import Keys


async def test_a_change_committed_after_a_later_one_was_synced_still_reaches_the_index(
    settings: Settings, database_url: str, db: asyncpg.Connection, keys: Keys
) -> None:
    """Transaction A deactivates a supplier and holds its change number; B writes after it and
    commits first; the worker syncs B; then A commits. A must not be skipped."""
    slow = await make_supplier(keys, "Långsamma kooperativet")
    quick = await make_supplier(keys, "Snabba kooperativet")
    buyer, _ = await keys.make("buyer")
    need = await make_need(keys, buyer)
    ranker = Ranker(settings)
    pool = await create_pool(database_url, settings)
    first = await connect(database_url)
    try:
        async with pool.acquire() as connection:
            await ranker.sync(connection)
        transaction = first.transaction()
        await transaction.start()
        await first.execute("UPDATE supplier_profiles SET active = false WHERE id = $1", slow)
        await db.execute(
            "UPDATE supplier_profiles SET description = description || ' Fönsterputs.' "
            "WHERE id = $1",
            quick,
        )
        async with pool.acquire() as connection:
            await ranker.sync(connection)  # sees the later change while the earlier is open
        await transaction.commit()
        async with pool.acquire() as connection:
            index = await ranker.sync(connection)
        need_row = await db.fetchrow("SELECT title FROM needs WHERE id = $1", need)
        assert need_row is not None
        ranked = [item.supplier_id for item in index.rank_suppliers(_need(await _load(db, need)))]
        assert slow not in ranked, "the deactivated supplier is still live in the index"
        assert quick in ranked
        await ranker.rank_need(pool, need)
        assert await need_list(db, need) == [quick]
    finally:
        await first.close()
        await pool.close()


async def test_a_supplier_deactivated_while_a_ranking_runs_is_not_stored_or_notified(
    settings: Settings, database_url: str, db: asyncpg.Connection, keys: Keys
) -> None:
    """The index still has the supplier active (its change is not yet synced), but the ranking
    checks again in its own transaction before it stores and notifies."""
    gone = await make_supplier(keys, "Nedlagda kooperativet")
    stays = await make_supplier(keys, "Kvarvarande kooperativet")
    buyer, _ = await keys.make("buyer")
    need = await make_need(keys, buyer)
    ranker = Ranker(settings)
    pool = await create_pool(database_url, settings)
    try:
        async with pool.acquire() as connection:
            stale = await ranker.sync(connection)
        # Straight to the row, no sync in between: the index cannot know yet.
        await db.execute("UPDATE supplier_profiles SET active = false WHERE id = $1", gone)
        # Rank with the index as it was, as a job whose sync ran just before the write would.
        await ranker.rank_need(pool, need, index=stale)
    finally:
        await pool.close()
    assert await need_list(db, need) == [stays]
    told = await db.fetch("SELECT supplier_id FROM notified_needs WHERE need_id = $1", need)
    assert gone not in {row["supplier_id"] for row in told}


async def test_a_need_closed_while_a_ranking_runs_stores_nothing(
    settings: Settings, database_url: str, db: asyncpg.Connection, keys: Keys
) -> None:
    await make_supplier(keys, "Städkooperativet")
    buyer, _ = await keys.make("buyer")
    need = await make_need(keys, buyer)
    ranker = Ranker(settings)
    pool = await create_pool(database_url, settings)
    try:
        async with pool.acquire() as connection:
            stale = await ranker.sync(connection)
        await db.execute("UPDATE needs SET status = 'closed' WHERE id = $1", need)
        await ranker.rank_need(pool, need, index=stale)
    finally:
        await pool.close()
    assert await need_list(db, need) == []
    assert await db.fetchval("SELECT count(*) FROM notified_needs WHERE need_id = $1", need) == 0


async def _load(db: asyncpg.Connection, need_id: int) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM needs WHERE id = $1", need_id)
    assert row is not None
    return row


def _need(row: asyncpg.Record):  # type: ignore[no-untyped-def]
    from asfmatch.matching.model import Need

    return Need(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        cpv_codes=tuple(row["cpv_codes"]),
        kommun=row["kommun"],
        estimated_value_sek=row["estimated_value_sek"],
        reserved=row["reserved"],
        training_places=row["training_places"],
        status=row["status"],
    )
