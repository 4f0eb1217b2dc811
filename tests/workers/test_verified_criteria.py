"""Verified criteria end to end: an admin records a check, profiles show it, it lapses with
time and with an edit of a verified field, and (with the setting on) reserved needs admit only
verified suppliers, re-ranked when a verification lapses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from worker_testkit import CHECK, CHECKED_PROFILE, NewSupplier, make_need, need_list

from asfmatch.api.app import create_app
from asfmatch.services.verifications import add_months
from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import swedish_today
from asfmatch.workers.housekeeping import lapse_verifications
from testkit import Keys, drain, post_supplier

API = "/api/v1"
Client = AsyncTestClient  # type: ignore[type-arg]


async def verify(client: Client, headers: dict[str, str], supplier_id: int, **changes: Any) -> Any:
    return await client.post(
        f"{API}/suppliers/{supplier_id}/verifications", json={**CHECK, **changes}, headers=headers
    )


async def public(client: Client, supplier_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/suppliers/{supplier_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[tuple[Client, Settings]]:
    """An app (and its settings) where reserved contracts require a valid verification."""
    changed = msgspec.structs.replace(settings, reserved_requires_verification=True)
    async with AsyncTestClient(app=create_app(changed)) as own:
        yield own, changed


async def test_an_admin_records_a_verification_that_the_profile_shows(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    assert (await public(client, supplier_id))["verification"] is None
    response = await verify(client, admin, supplier_id)
    assert response.status_code == 201, response.text
    recorded = response.json()
    today = swedish_today()
    assert recorded["verified_by"] == "Coompanion Test"
    assert recorded["verified_on"] == today.isoformat()
    assert recorded["valid_until"] == add_months(today, 24).isoformat()
    shown = (await public(client, supplier_id))["verification"]
    assert shown == {
        "verified_by": "Coompanion Test",
        "verified_on": today.isoformat(),
        "valid_until": add_months(today, 24).isoformat(),
        "valid": True,
        "lapse_reason": None,
    }
    own = await client.get(f"{API}/suppliers/{supplier_id}/verifications", headers=headers)
    assert own.status_code == 200
    assert [item["note"] for item in own.json()["items"]] == [CHECK["note"]]


async def test_only_admins_record_and_only_owner_and_admins_read_the_history(
    client: Client, keys: Keys, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    _, other = await new_supplier("Annan ek. för.", CHECKED_PROFILE)
    _, buyer = await keys.make("buyer", "Luleå kommun")
    assert (await verify(client, headers, supplier_id)).status_code == 403
    assert (await verify(client, buyer, supplier_id)).status_code == 403
    assert (await verify(client, {}, supplier_id)).status_code == 401
    assert (await verify(client, admin, 999_999)).status_code == 404
    path = f"{API}/suppliers/{supplier_id}/verifications"
    assert (await client.get(path, headers=other)).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=admin)).status_code == 200


async def test_a_check_for_a_future_day_too_old_or_without_a_note_is_refused(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    tomorrow = (swedish_today() + timedelta(days=1)).isoformat()
    for changes, field in [
        ({"verified_on": tomorrow}, "verified_on"),
        ({"verified_on": "2020-01-01"}, "verified_on"),
        ({"note": "   "}, "note"),
        ({"note": ""}, "note"),
        ({"target_group_share": 1.5}, "target_group_share"),
    ]:
        response = await verify(client, admin, supplier_id, **changes)
        assert response.status_code == 422, (changes, response.text)
        assert field in [error["field"] for error in response.json()["errors"]], response.text
    missing = {key: value for key, value in CHECK.items() if key != "profits_reinvested"}
    response = await client.post(
        f"{API}/suppliers/{supplier_id}/verifications", json=missing, headers=admin
    )
    assert response.status_code in {400, 422}
    assert "profits_reinvested" in response.text
    assert (await public(client, supplier_id))["verification"] is None


async def test_the_checked_values_become_the_profiles(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    response = await verify(
        client, admin, supplier_id, target_group_share=0.45, profits_reinvested=False
    )
    assert response.status_code == 201, response.text
    shown = await public(client, supplier_id)
    assert shown["target_group_share"] == 0.45
    assert shown["profits_reinvested"] is False
    assert shown["verification"]["valid"] is True


async def test_a_supplier_changing_its_share_lapses_the_verification(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    patched = await client.patch(
        f"{API}/suppliers/{supplier_id}", json={"target_group_share": 1.0}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["verification"]["valid"] is False
    assert patched.json()["verification"]["lapse_reason"] == "profile_changed"
    history = await client.get(f"{API}/suppliers/{supplier_id}/verifications", headers=admin)
    (item,) = history.json()["items"]
    assert item["lapse_reason"] == "profile_changed"
    assert item["lapsed_by"] == "Glansen ek. för."
    assert item["target_group_share"] == 0.6  # what was verified stays in the history


async def test_edits_of_other_fields_or_of_the_same_values_keep_the_verification(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, headers = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    for who in (headers, admin):
        patched = await client.patch(
            f"{API}/suppliers/{supplier_id}",
            json={"description": "Städning av skolor.", "target_group_share": 0.6},
            headers=who,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["verification"]["valid"] is True


async def test_an_admin_changing_a_criterion_lapses_it_too(
    client: Client, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    patched = await client.patch(
        f"{API}/suppliers/{supplier_id}", json={"employee_participation": False}, headers=admin
    )
    assert patched.json()["verification"]["lapse_reason"] == "profile_changed"


async def test_a_new_verification_supersedes_the_one_in_force(
    client: Client, keys: Keys, admin: dict[str, str], new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    _, skoopi = await keys.make("admin", "Skoopi")
    assert (await verify(client, admin, supplier_id)).status_code == 201
    assert (await verify(client, skoopi, supplier_id)).status_code == 201
    shown = (await public(client, supplier_id))["verification"]
    assert (shown["verified_by"], shown["valid"]) == ("Skoopi", True)
    history = await client.get(f"{API}/suppliers/{supplier_id}/verifications", headers=admin)
    reasons = [(i["verified_by"], i["lapse_reason"]) for i in history.json()["items"]]
    assert reasons == [("Skoopi", None), ("Coompanion Test", "superseded")]


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo("Europe/Stockholm"))


async def test_a_verification_holds_through_its_last_day_and_lapses_the_day_after(
    client: Client, admin: dict[str, str], settings: Settings, new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    last_day = add_months(swedish_today(), settings.verification_valid_months)
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, settings)
    try:
        with time_machine.travel(_noon(last_day), tick=False):
            await lapse_verifications(pool, settings)
            assert (await public(client, supplier_id))["verification"]["valid"] is True
        with time_machine.travel(_noon(last_day + timedelta(days=1)), tick=False):
            # Lapsed on reading already, before the worker's check marks it.
            shown = (await public(client, supplier_id))["verification"]
            assert (shown["valid"], shown["lapse_reason"]) == (False, "expired")
            await lapse_verifications(pool, settings)
    finally:
        await pool.close()
    history = await client.get(f"{API}/suppliers/{supplier_id}/verifications", headers=admin)
    assert history.json()["items"][0]["lapse_reason"] == "expired"
    assert history.json()["items"][0]["lapsed_by"] is None


async def test_without_the_requirement_unverified_suppliers_take_reserved_needs(
    keys: Keys, settings: Settings, new_supplier: NewSupplier
) -> None:
    supplier_id, _ = await new_supplier("Glansen ek. för.", CHECKED_PROFILE)
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    need_id = await make_need(keys, buyer_id, reserved=True)
    await drain(settings)
    assert await need_list(keys.db, need_id) == [supplier_id]


async def test_with_the_requirement_reserved_needs_admit_only_verified_suppliers(
    strict: tuple[Client, Settings], keys: Keys, admin: dict[str, str]
) -> None:
    client, settings = strict
    verified, _ = await post_supplier(client, keys, "Glansen ek. för.", CHECKED_PROFILE)
    unverified, _ = await post_supplier(client, keys, "Blänket ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, verified)).status_code == 201
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    reserved = await make_need(keys, buyer_id, reserved=True)
    open_need = await make_need(keys, buyer_id, reserved=False)
    await drain(settings)
    assert await need_list(keys.db, reserved) == [verified]
    assert sorted(await need_list(keys.db, open_need)) == sorted([verified, unverified])
    # Verifying the other one brings it in: recording re-ranks it.
    assert (await verify(client, admin, unverified)).status_code == 201
    await drain(settings)
    assert sorted(await need_list(keys.db, reserved)) == sorted([verified, unverified])


async def test_with_the_requirement_an_edit_that_lapses_it_drops_reserved_needs(
    strict: tuple[Client, Settings], keys: Keys, admin: dict[str, str]
) -> None:
    client, settings = strict
    supplier_id, headers = await post_supplier(client, keys, "Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    reserved = await make_need(keys, buyer_id, reserved=True)
    await drain(settings)
    assert await need_list(keys.db, reserved) == [supplier_id]
    patched = await client.patch(
        f"{API}/suppliers/{supplier_id}", json={"target_group_share": 0.9}, headers=headers
    )
    assert patched.status_code == 200
    await drain(settings)
    assert await need_list(keys.db, reserved) == []


async def test_with_the_requirement_a_lapse_by_time_reranks_the_supplier(
    strict: tuple[Client, Settings], keys: Keys, admin: dict[str, str]
) -> None:
    client, settings = strict
    supplier_id, _ = await post_supplier(client, keys, "Glansen ek. för.", CHECKED_PROFILE)
    assert (await verify(client, admin, supplier_id)).status_code == 201
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    reserved = await make_need(keys, buyer_id, reserved=True)
    await drain(settings)
    assert await need_list(keys.db, reserved) == [supplier_id]
    later = add_months(swedish_today(), settings.verification_valid_months) + timedelta(days=1)
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, settings)
    try:
        with time_machine.travel(_noon(later), tick=True):
            await lapse_verifications(pool, settings)
            queued = await keys.db.fetchval(
                "SELECT count(*) FROM jobs WHERE kind = 'rank_supplier' AND entity_id = $1 "
                "AND state = 'queued'",
                supplier_id,
            )
            assert queued == 1
            await drain(settings)
    finally:
        await pool.close()
    assert await need_list(keys.db, reserved) == []
