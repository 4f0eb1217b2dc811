"""From a write to a ranked, cached match list: API, queue, worker and cache together."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from testkit import Keys

CLEANING = {
    "legal_form": "ekonomisk_forening",
    "description": "Vi utför städning av kontor, trapphus och skolor. Arbetsträning för personer "
    "långt från arbetsmarknaden.",
    "cpv_codes": ["90910000"],
    "service_area": ["2580"],
    "employees": 14,
    "target_group_share": 0.6,
    "max_contract_value_sek": 1_000_000,
}
CATERING = {
    "legal_form": "ekonomisk_forening",
    "description": "Lunchrestaurang och catering med husmanskost. Vi lagar måltider till "
    "förskolor och äldreboenden.",
    "cpv_codes": ["55520000"],
    "service_area": ["25"],
    "employees": 9,
    "target_group_share": 0.5,
}


async def _supplier(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
    admin: dict[str, str],
    name: str,
    profile: dict[str, Any],
) -> tuple[int, dict[str, str]]:
    organisation_id, headers = await keys.make("supplier", name)
    number = await keys.db.fetchval(
        "SELECT org_number FROM organisations WHERE id = $1", organisation_id
    )
    response = await client.post(
        "/api/v1/suppliers", json={"name": name, "org_number": number, **profile}, headers=headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), headers


async def _drain(settings: Settings) -> int:
    assert settings.database_url is not None
    worker = Worker(settings, settings.database_url)
    pool = await create_pool(settings.database_url, settings)
    try:
        return await worker.drain(pool)
    finally:
        await pool.close()


@pytest.fixture
async def world(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
    admin: dict[str, str],
) -> dict[str, Any]:
    cleaner, cleaner_headers = await _supplier(
        client, keys, admin, "Städkooperativet Trean", CLEANING
    )
    cook, cook_headers = await _supplier(client, keys, admin, "Kaffekoppen", CATERING)
    _, buyer = await keys.make("buyer", "Luleå kommun")
    need = await client.post(
        "/api/v1/needs",
        json={
            "title": "Lokalvård av förskolor i Gammelstad",
            "description": "Städning av tre förskolor, daglig lokalvård och fönsterputs.",
            "cpv_codes": ["90919200"],
            "kommun": "2580",
            "estimated_value_sek": 500_000,
        },
        headers=buyer,
    )
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
    assert await _drain(settings) >= 3
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
    await _drain(settings)
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
    await _drain(settings)
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
    await _drain(settings)
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
    await _drain(settings)
    after = (await client.get(path, headers=world["buyer"])).json()
    assert after == {"need_id": world["need"], "status": "ready", "matches": []}, (
        "nobody serves Stockholm in this world"
    )


async def test_closing_a_need_removes_it_from_supplier_lists(
    client: AsyncTestClient,
    settings: Settings,
    world: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    await _drain(settings)
    closed = await client.post(f"/api/v1/needs/{world['need']}/close", headers=world["buyer"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    await _drain(settings)
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
    await _drain(settings)
    response = await client.patch(
        f"/api/v1/suppliers/{world['cleaner']}",
        json={"active": False},
        headers=world["cleaner_headers"],
    )
    assert response.status_code == 200
    await _drain(settings)
    body = (
        await client.get(f"/api/v1/needs/{world['need']}/matches", headers=world["buyer"])
    ).json()
    assert world["cleaner"] not in [m["supplier_id"] for m in body["matches"]]
    assert body["status"] == "ready"


async def test_a_new_supplier_enters_the_lists_of_open_needs_it_suits(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
    admin: dict[str, str],
) -> None:
    await _drain(settings)
    newcomer, _ = await _supplier(
        client,
        keys,
        admin,
        "Rent & Fint",
        {**CLEANING, "description": "Lokalvård och städning av förskolor."},
    )
    await _drain(settings)
    body = (
        await client.get(f"/api/v1/needs/{world['need']}/matches", headers=world["buyer"])
    ).json()
    assert newcomer in [m["supplier_id"] for m in body["matches"]]


async def test_each_stored_match_records_the_model_version(
    db: asyncpg.Connection, settings: Settings, world: dict[str, Any]
) -> None:
    await _drain(settings)
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

    await _drain(settings)
    assert await close_expired_needs(db) == []
    await db.execute(
        "UPDATE needs SET closes_at = now() - interval '1 minute' WHERE id = $1", world["need"]
    )
    assert await close_expired_needs(db) == [world["need"]]
    await _drain(settings)
    need = (await client.get(f"/api/v1/needs/{world['need']}")).json()
    assert need["status"] == "closed"
    body = (
        await client.get(
            f"/api/v1/suppliers/{world['cleaner']}/matches", headers=world["cleaner_headers"]
        )
    ).json()
    assert body["matches"] == []
