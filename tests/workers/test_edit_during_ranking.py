"""Edits through the API and rankings in the worker take their locks in one order, and a
transaction that still loses a conflict is retried: no 5xx, no failed ranking."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar.testing import AsyncTestClient
from worker_testkit import make_need, make_supplier

from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.ranking import Ranker
from testkit import Keys

ROUNDS = 30
# Concurrent edits and rankings of the same need and supplier in each round.
WIDTH = 3


async def test_patches_racing_rankings_never_answer_5xx(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    database_url: str,
    db: asyncpg.Connection,
    keys: Keys,
    admin: dict[str, str],
) -> None:
    suppliers = [await make_supplier(keys, f"Kooperativ {n}") for n in range(8)]
    buyer, _ = await keys.make("buyer")
    needs = [await make_need(keys, buyer, title=f"Lokalvård {n}") for n in range(3)]
    ranker = Ranker(settings)
    pool = await create_pool(database_url, settings)
    statuses: list[int] = []
    try:
        async with pool.acquire() as connection:
            await ranker.sync(connection)
        for need in needs:
            await ranker.rank_need(pool, need)
        for round_ in range(ROUNDS):
            need = needs[round_ % len(needs)]
            supplier = suppliers[round_ % len(suppliers)]

            async def patch_need(need: int = need, round_: int = round_) -> None:
                response = await client.patch(
                    f"/api/v1/needs/{need}",
                    json={"description": f"Städning och fönsterputs, omgång {round_}."},
                    headers=admin,
                )
                statuses.append(response.status_code)

            async def patch_supplier(supplier: int = supplier, round_: int = round_) -> None:
                response = await client.patch(
                    f"/api/v1/suppliers/{supplier}",
                    json={"employees": 10 + round_},
                    headers=admin,
                )
                statuses.append(response.status_code)

            await asyncio.gather(
                *(patch_need() for _ in range(WIDTH)),
                *(ranker.rank_need(pool, need) for _ in range(WIDTH)),
                *(patch_supplier() for _ in range(WIDTH)),
                *(ranker.rank_supplier(pool, supplier) for _ in range(WIDTH)),
                *(ranker.rank_need(pool, other) for other in needs if other != need),
            )
    finally:
        await pool.close()
    assert len(statuses) == 2 * WIDTH * ROUNDS
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {200}
