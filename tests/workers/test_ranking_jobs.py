"""From a write to a ranked, cached match list: API, queue, worker and cache together."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from worker_testkit import CLEANING_NEED, CLEANING_PROFILE, NewSupplier

from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from testkit import Keys, drain

CATERING = {
    "legal_form": "ekonomisk_forening",
    "description": "Lunchrestaurang och catering med husmanskost. Vi lagar måltider till "
    "förskolor och äldreboenden.",
    "cpv_codes": ["55520000"],
    "service_area": ["25"],
    "employees": 9,
    "target_group_share": 0.5,
}


@pytest.fixture
async def world(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
    new_supplier: NewSupplier,
) -> dict[str, Any]:
    cleaner, cleaner_headers = await new_supplier("Städkooperativet Trean", CLEANING_PROFILE)
    cook, cook_headers = await new_supplier("Kaffekoppen", CATERING)
    _, buyer = await keys.make("buyer", "Luleå kommun")
    need = await client.post("/api/v1/needs", json=CLEANING_NEED, headers=buyer)
    assert need.status_code == 201
    return {
        "need": need.json()["id"],
        "buyer": buyer,
        "cleaner": cleaner,
        "cleaner_headers": cleaner_headers,
        "cook": cook,
        "cook_headers": cook_headers,
    }


async def test_a_new_need_is_pending_until_the_worker_ranks_it(
    client: AsyncTestClient,
    settings: Settings,
    world: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    path = f"/api/v1/needs/{world['need']}/matches"
    before = await client.get(path, headers=world["buyer"])
    assert before.status_code == 200 and before.json()["status"] == "pending"
    assert await drain(settings) >= 3
    after = (await client.get(path, headers=world["buyer"])).json()
    assert after["status"] == "ready"
    ranked = [m["supplier_id"] for m in after["matches"]]
    assert ranked[0] == world["cleaner"], "the cleaning co-op answers a lokalvård need best"
    top = after["matches"][0]
    assert top["rank"] == 1 and 0 < top["score"] <= 1 and top["model_version"]
    assert {f["name"] for f in top["explanation"]["filters"]} >= {"region", "capacity", "reserved"}


async def test_a_supplier_learns_which_open_needs_suit_it(
    client: AsyncTestClient,
    settings: Settings,
    world: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    await drain(settings)
    response = await client.get(
        f"/api/v1/suppliers/{world['cleaner']}/matches", headers=world["cleaner_headers"]
    )
    body = response.json()
    assert body["status"] == "ready"
    assert [m["need_id"] for m in body["matches"]] == [world["need"]]


async def test_match_lists_are_private_to_the_buyer_the_matched_supplier_and_admins(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
    admin: dict[str, str],
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    _, stranger = await keys.make("buyer")
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=stranger)).status_code == 403
    assert (await client.get(path, headers=admin)).status_code == 200
    seen_by_cleaner = (await client.get(path, headers=world["cleaner_headers"])).json()
    assert [m["supplier_id"] for m in seen_by_cleaner["matches"]] == [world["cleaner"]]
    other = f"/api/v1/suppliers/{world['cleaner']}/matches"
    assert (await client.get(other, headers=world["cook_headers"])).status_code == 403


async def test_a_committed_write_is_never_answered_from_a_stale_cache(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    redis_client: aioredis.Redis,
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    first = (await client.get(path, headers=world["buyer"])).json()
    assert first["matches"] and first["status"] == "ready"
    assert await redis_client.get(f"{settings.redis_prefix}matches:need:{world['need']}")
    moved = await client.patch(
        f"/api/v1/needs/{world['need']}", json={"kommun": "0180"}, headers=world["buyer"]
    )
    assert moved.status_code == 200
    during = (await client.get(path, headers=world["buyer"])).json()
    assert during == {"need_id": world["need"], "status": "pending", "matches": []}
    await drain(settings)
    after = (await client.get(path, headers=world["buyer"])).json()
    assert after == {"need_id": world["need"], "status": "ready", "matches": []}, (
        "nobody serves Stockholm in this world"
    )


async def test_closing_a_need_removes_it_from_supplier_lists(
    client: AsyncTestClient,
    settings: Settings,
    world: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    await drain(settings)
    closed = await client.post(f"/api/v1/needs/{world['need']}/close", headers=world["buyer"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    await drain(settings)
    body = (
        await client.get(
            f"/api/v1/suppliers/{world['cleaner']}/matches", headers=world["cleaner_headers"]
        )
    ).json()
    assert body == {"supplier_id": world["cleaner"], "status": "ready", "matches": []}


async def test_deactivating_a_supplier_removes_it_from_need_lists(
    client: AsyncTestClient,
    settings: Settings,
    world: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    await drain(settings)
    response = await client.patch(
        f"/api/v1/suppliers/{world['cleaner']}",
        json={"active": False},
        headers=world["cleaner_headers"],
    )
    assert response.status_code == 200
    await drain(settings)
    body = (
        await client.get(f"/api/v1/needs/{world['need']}/matches", headers=world["buyer"])
    ).json()
    assert world["cleaner"] not in [m["supplier_id"] for m in body["matches"]]
    assert body["status"] == "ready"


async def test_a_new_supplier_enters_the_lists_of_open_needs_it_suits(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    new_supplier: NewSupplier,
) -> None:
    await drain(settings)
    newcomer, _ = await new_supplier(
        "Rent & Fint", {**CLEANING_PROFILE, "description": "Lokalvård och städning av förskolor."}
    )
    await drain(settings)
    body = (
        await client.get(f"/api/v1/needs/{world['need']}/matches", headers=world["buyer"])
    ).json()
    assert newcomer in [m["supplier_id"] for m in body["matches"]]


async def test_each_stored_match_records_the_model_version(
    db: asyncpg.Connection, settings: Settings, world: dict[str, Any]
) -> None:
    await drain(settings)
    versions = await db.fetch("SELECT DISTINCT model_version FROM matches")
    assert len(versions) == 1 and versions[0]["model_version"]


async def test_ranking_jobs_do_not_refit_the_model_when_no_content_changed(
    settings: Settings, world: dict[str, Any], db: asyncpg.Connection
) -> None:
    assert settings.database_url is not None
    worker = Worker(settings, settings.database_url)
    pool = await create_pool(settings.database_url, settings)
    try:
        await worker.drain(pool)
        index = worker.ranker.index
        # Storing results bumps every touched list's cache version; that is no edit.
        await db.execute(
            "INSERT INTO jobs (kind, entity_id) SELECT 'rank_need', id FROM needs ON CONFLICT DO NOTHING"
        )
        await db.execute(
            "INSERT INTO jobs (kind, entity_id) SELECT 'rank_supplier', id FROM supplier_profiles ON CONFLICT DO NOTHING"
        )
        assert await worker.drain(pool) >= 3
        assert worker.ranker.index is index
    finally:
        await pool.close()


async def test_a_need_past_its_deadline_is_closed_and_leaves_the_supplier_lists(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    db: asyncpg.Connection,
) -> None:
    from asfmatch.workers.deadlines import close_expired_needs

    await drain(settings)
    assert await close_expired_needs(db) == []
    await db.execute(
        "UPDATE needs SET closes_at = now() - interval '1 minute' WHERE id = $1", world["need"]
    )
    assert await close_expired_needs(db) == [world["need"]]
    await drain(settings)
    need = (await client.get(f"/api/v1/needs/{world['need']}")).json()
    assert need["status"] == "closed"
    body = (
        await client.get(
            f"/api/v1/suppliers/{world['cleaner']}/matches", headers=world["cleaner_headers"]
        )
    ).json()
    assert body["matches"] == []
