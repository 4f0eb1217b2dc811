"""A buyer's match list says which ASFs a support body has verified, and the cached list never
keeps a badge that no longer holds: granting, lapsing by time and lapsing by an edit each
invalidate the lists showing the supplier, whether or not the change re-ranks anything."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
import time_machine
from litestar.testing import AsyncTestClient
from worker_testkit import CHECK, CHECKED_PROFILE, NewSupplier, make_need

from asfmatch.services.verifications import add_months
from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import swedish_today
from asfmatch.workers.housekeeping import lapse_verifications
from testkit import Keys, drain

API = "/api/v1"
Client = AsyncTestClient  # type: ignore[type-arg]


async def badges(client: Client, headers: dict[str, str], need_id: int) -> dict[int, Any]:
    response = await client.get(f"{API}/needs/{need_id}/matches", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready", body
    return {item["supplier_id"]: item["verification"] for item in body["matches"]}


async def queued_rankings(keys: Keys) -> int:
    count: int = await keys.db.fetchval(
        "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"
    )
    return count


async def cached_version(redis: aioredis.Redis, settings: Settings, need_id: int) -> bytes | None:
    entry = await redis.get(f"{settings.redis_prefix}matches:need:{need_id}")
    return None if entry is None else entry.partition(b"\n")[0]


def _noon(day: Any) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo("Europe/Stockholm"))


async def test_a_verification_granted_after_the_list_was_cached_shows_at_once(
    client: Client,
    keys: Keys,
    admin: dict[str, str],
    settings: Settings,
    redis_client: aioredis.Redis,
    new_supplier: NewSupplier,
) -> None:
    verified, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    other, _ = await new_supplier("Blänket ek. för.", CHECKED_PROFILE)
    buyer_id, buyer = await keys.make("buyer", "Luleå kommun")
    need_id = await make_need(keys, buyer_id)
    await drain(settings)
    assert await badges(client, buyer, need_id) == {verified: None, other: None}
    before = await cached_version(redis_client, settings, need_id)
    assert before is not None  # the list is served from the cache from now on

    response = await client.post(
        f"{API}/suppliers/{verified}/verifications", json=CHECK, headers=admin
    )
    assert response.status_code == 201, response.text
    # Same values, requirement off: nothing is re-ranked, only the cache is invalidated.
    assert await queued_rankings(keys) == 0
    shown = await badges(client, buyer, need_id)
    assert shown[other] is None
    assert shown[verified] == {
        "verified_by": "Coompanion Test",
        "verified_on": swedish_today().isoformat(),
        "valid_until": add_months(swedish_today(), 24).isoformat(),
        "valid": True,
        "lapse_reason": None,
    }
    assert await cached_version(redis_client, settings, need_id) != before


async def test_a_verification_lapsing_by_time_leaves_no_stale_badge_in_the_cache(
    client: Client, keys: Keys, admin: dict[str, str], settings: Settings, new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    check = await client.post(
        f"{API}/suppliers/{supplier_id}/verifications", json=CHECK, headers=admin
    )
    assert check.status_code == 201
    buyer_id, buyer = await keys.make("buyer", "Luleå kommun")
    need_id = await make_need(keys, buyer_id)
    await drain(settings)
    last_day = add_months(swedish_today(), settings.verification_valid_months)
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, settings)
    try:
        with time_machine.travel(_noon(last_day), tick=False):
            # Cached on its last valid day...
            assert (await badges(client, buyer, need_id))[supplier_id]["valid"] is True
        with time_machine.travel(_noon(last_day + timedelta(days=1)), tick=False):
            # ...and the worker's check the day after invalidates that entry.
            await lapse_verifications(pool, settings)
            shown = (await badges(client, buyer, need_id))[supplier_id]
    finally:
        await pool.close()
    assert (shown["valid"], shown["lapse_reason"]) == (False, "expired")


async def test_an_edit_of_a_verified_field_drops_the_badge_from_the_buyers_list(
    client: Client, keys: Keys, admin: dict[str, str], settings: Settings, new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    check = await client.post(
        f"{API}/suppliers/{supplier_id}/verifications", json=CHECK, headers=admin
    )
    assert check.status_code == 201
    buyer_id, buyer = await keys.make("buyer", "Luleå kommun")
    need_id = await make_need(keys, buyer_id)
    await drain(settings)
    assert (await badges(client, buyer, need_id))[supplier_id]["valid"] is True
    patched = await client.patch(
        f"{API}/suppliers/{supplier_id}", json={"target_group_share": 0.9}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    await drain(settings)
    shown = (await badges(client, buyer, need_id))[supplier_id]
    assert (shown["valid"], shown["lapse_reason"]) == (False, "profile_changed")


async def test_a_matched_supplier_sees_its_own_badge_and_the_list_stays_closed_to_others(
    client: Client, keys: Keys, admin: dict[str, str], settings: Settings, new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    check = await client.post(
        f"{API}/suppliers/{supplier_id}/verifications", json=CHECK, headers=admin
    )
    assert check.status_code == 201
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    _, stranger = await keys.make("buyer", "Bodens kommun")
    need_id = await make_need(keys, buyer_id)
    await drain(settings)
    own = await client.get(f"{API}/needs/{need_id}/matches", headers=headers)
    assert [item["verification"]["valid"] for item in own.json()["matches"]] == [True]
    refused = await client.get(f"{API}/needs/{need_id}/matches", headers=stranger)
    assert refused.status_code == 403
