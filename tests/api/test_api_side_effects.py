"""What a request leaves behind: queued ranking jobs, coalescing, and nothing at all when the
request fails."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from api_testkit import API, World, assert_problem, need_body, new_org_number, supplier_body

from asfmatch.services.errors import Conflict, FieldError, Invalid
from asfmatch.services.suppliers import SupplierCreate, create_supplier
from asfmatch.storage import needs as needs_module
from asfmatch.storage import suppliers as suppliers_module
from asfmatch.storage.db import connect
from asfmatch.storage.organisations import Principal


async def queued(db, kind: str, entity_id: int | None = None) -> int:
    """Queued jobs of `kind` (for one entity, or all)."""
    count: int = await db.fetchval(
        """
        SELECT count(*) FROM jobs
        WHERE kind = $1 AND state = 'queued' AND ($2::bigint IS NULL OR entity_id = $2)
        """,
        kind,
        entity_id,
    )
    return count


async def all_jobs(db) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM jobs")
    return count


async def finish_all_jobs(db) -> None:
    """As if a worker had run everything queued so far."""
    await db.execute("UPDATE jobs SET state = 'done', finished_at = now() WHERE state = 'queued'")


# --- needs --------------------------------------------------------------------------------------


async def test_creating_an_open_need_queues_exactly_one_rank_job(client, keys, db):
    _, buyer = await keys.make("buyer")
    response = await client.post(f"{API}/needs", json=need_body(), headers=buyer)
    need_id = response.json()["id"]
    assert await queued(db, "rank_need", need_id) == 1
    assert await all_jobs(db) == 1
    row = await db.fetchrow("SELECT entity_id, attempts FROM jobs")
    assert row["entity_id"] == need_id and row["attempts"] == 0


async def test_a_draft_queues_nothing_until_published(client, keys, db):
    _, buyer = await keys.make("buyer")
    response = await client.post(f"{API}/needs", json=need_body(status="draft"), headers=buyer)
    need_id = response.json()["id"]
    assert await all_jobs(db) == 0
    await client.patch(
        f"{API}/needs/{need_id}", json={"title": "Fortfarande utkast"}, headers=buyer
    )
    assert await all_jobs(db) == 0
    await client.patch(f"{API}/needs/{need_id}", json={"status": "open"}, headers=buyer)
    assert await queued(db, "rank_need", need_id) == 1


async def test_ten_patches_leave_one_queued_job(client, keys, db):
    _, buyer = await keys.make("buyer")
    need_id = (await client.post(f"{API}/needs", json=need_body(), headers=buyer)).json()["id"]
    for serial in range(10):
        response = await client.patch(
            f"{API}/needs/{need_id}", json={"title": f"Version {serial}"}, headers=buyer
        )
        assert response.status_code == 200
    assert await queued(db, "rank_need", need_id) == 1
    assert await all_jobs(db) == 1


async def test_a_patch_that_changes_nothing_queues_nothing(client, keys, db):
    _, buyer = await keys.make("buyer")
    created = (await client.post(f"{API}/needs", json=need_body(), headers=buyer)).json()
    await finish_all_jobs(db)
    url = f"{API}/needs/{created['id']}"
    for body in ({}, {"title": created["title"]}, {"kommun": "2580", "reserved": False}):
        assert (await client.patch(url, json=body, headers=buyer)).status_code == 200
    assert await queued(db, "rank_need") == 0
    # A real change after the job ran queues a fresh one.
    await client.patch(url, json={"estimated_value_sek": 1}, headers=buyer)
    assert await queued(db, "rank_need", created["id"]) == 1


async def test_closing_a_need_drops_its_matches_and_refills_the_suppliers_lists(
    client, world: World, db
):
    await finish_all_jobs(db)
    for supplier_id in (world.profile_id, world.other_profile_id):
        await db.execute(
            """
            INSERT INTO matches (need_id, supplier_id, score, explanation, model_version,
                                 in_need_list, in_supplier_list)
            VALUES ($1, $2, 0.5, '{}'::jsonb, 'test', true, true)
            """,
            world.need_id,
            supplier_id,
        )
    response = await client.post(f"{API}/needs/{world.need_id}/close", headers=world.buyer.headers)
    assert response.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM matches") == 0
    assert await queued(db, "rank_need") == 0  # a closed need is not ranked again
    assert await queued(db, "rank_supplier", world.profile_id) == 1
    assert await queued(db, "rank_supplier", world.other_profile_id) == 1


# --- suppliers ----------------------------------------------------------------------------------


async def test_creating_and_editing_a_supplier_queues_one_rank_job(client, admin, db):
    created = await client.post(
        f"{API}/suppliers", json=supplier_body(new_org_number()), headers=admin
    )
    supplier_id = created.json()["id"]
    assert await queued(db, "rank_supplier", supplier_id) == 1
    for employees in (1, 2, 3):
        await client.patch(
            f"{API}/suppliers/{supplier_id}", json={"employees": employees}, headers=admin
        )
    assert await queued(db, "rank_supplier", supplier_id) == 1
    assert await all_jobs(db) == 1


async def test_a_supplier_patch_that_changes_nothing_queues_nothing(client, world: World, db):
    await finish_all_jobs(db)
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"employees": 14, "service_area": ["25"]},
        headers=world.supplier.headers,
    )
    assert response.status_code == 200
    assert await queued(db, "rank_supplier") == 0


# --- failures leave nothing behind --------------------------------------------------------------


async def test_a_rejected_need_leaves_no_row_and_no_job(client, keys, db):
    _, buyer = await keys.make("buyer")
    response = await client.post(
        f"{API}/needs", json=need_body(kommun="9999", cpv_codes=["99999999"]), headers=buyer
    )
    assert_problem(response, 422, "kommun")
    assert await db.fetchval("SELECT count(*) FROM needs") == 0
    assert await all_jobs(db) == 0


async def test_a_rejected_patch_changes_nothing_and_queues_nothing(client, world: World, db):
    await finish_all_jobs(db)
    url = f"{API}/needs/{world.need_id}"
    before = (await client.get(url)).json()
    response = await client.patch(
        url, json={"title": "Ny", "kommun": "9999"}, headers=world.buyer.headers
    )
    assert_problem(response, 422, "kommun")
    assert (await client.get(url)).json() == before
    assert await queued(db, "rank_need") == 0


async def test_a_request_failing_after_its_writes_is_rolled_back(client, keys, db, monkeypatch):
    """The first lot's row is inserted, its job queued (one statement), then the second lot
    fails: one transaction, so neither survives."""
    _, buyer = await keys.make("buyer")
    insert_need = needs_module.insert_need

    async def insert_then_fail(connection, *args, **kwargs):
        await insert_need(connection, *args, **kwargs)
        assert await connection.fetchval("SELECT count(*) FROM jobs") == 1
        raise Invalid([FieldError("kommun", "injected failure after the writes")])

    monkeypatch.setattr(needs_module, "insert_need", insert_then_fail)
    body = {"need": need_body(), "lots": 2}
    response = await client.post(f"{API}/needs/lots", json=body, headers=buyer)
    assert_problem(response, 422, "kommun")
    assert await db.fetchval("SELECT count(*) FROM needs") == 0
    assert await all_jobs(db) == 0


async def test_a_crash_after_the_writes_is_a_500_and_rolled_back(client, keys, db, monkeypatch):
    _, buyer = await keys.make("buyer")
    insert_need = needs_module.insert_need

    async def insert_then_crash(connection, *args, **kwargs):
        await insert_need(connection, *args, **kwargs)
        raise RuntimeError("injected crash")

    monkeypatch.setattr(needs_module, "insert_need", insert_then_crash)
    body = {"need": need_body(), "lots": 2}
    response = await client.post(f"{API}/needs/lots", json=body, headers=buyer)
    body = assert_problem(response, 500)
    assert "injected" not in response.text  # nothing internal leaks
    assert body["title"] == "Internal error"
    assert await db.fetchval("SELECT count(*) FROM needs") == 0
    assert await all_jobs(db) == 0


async def test_a_posted_need_that_fails_in_its_batch_is_a_500_and_not_written_twice(
    client, keys, db, monkeypatch
):
    """POST /needs is written by one statement outside a transaction block (group commit): a
    crash after it may leave the need written, but unacknowledged (500), and never retried
    into a second row."""
    _, buyer = await keys.make("buyer")
    insert_posted_needs = needs_module.insert_posted_needs

    async def insert_then_crash(connection, *args, **kwargs):
        await insert_posted_needs(connection, *args, **kwargs)
        raise RuntimeError("injected crash")

    monkeypatch.setattr(needs_module, "insert_posted_needs", insert_then_crash)
    response = await client.post(f"{API}/needs", json=need_body(), headers=buyer)
    assert_problem(response, 500)
    assert await db.fetchval("SELECT count(*) FROM needs") <= 1


async def test_a_failed_supplier_creation_leaves_no_organisation(client, admin, db, monkeypatch):
    """An admin's call creates the organisation, then the profile; if the profile step fails
    the organisation must not stay behind."""
    insert = suppliers_module.insert_supplier

    async def insert_then_fail(connection, *args, **kwargs):
        await insert(connection, *args, **kwargs)
        raise Invalid([FieldError("service_area", "injected failure")])

    monkeypatch.setattr(suppliers_module, "insert_supplier", insert_then_fail)
    number = new_org_number()
    response = await client.post(f"{API}/suppliers", json=supplier_body(number), headers=admin)
    assert_problem(response, 422, "service_area")
    assert (
        await db.fetchval("SELECT count(*) FROM organisations WHERE org_number = $1", number) == 0
    )
    assert await db.fetchval("SELECT count(*) FROM supplier_profiles") == 0
    assert await all_jobs(db) == 0


async def test_a_failed_supplier_rename_keeps_the_old_name(client, world: World, db, monkeypatch):
    async def fail(*args, **kwargs):
        raise Invalid([FieldError("name", "injected failure")])

    monkeypatch.setattr(suppliers_module, "update_supplier", fail)
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"name": "Nytt namn"},
        headers=world.supplier.headers,
    )
    assert_problem(response, 422, "name")
    name = await db.fetchval("SELECT name FROM organisations WHERE id = $1", world.supplier.org_id)
    assert name == "Kooperativet Matglädje"


@pytest.mark.parametrize("role", ["anonymous", "other_buyer", "supplier"])
async def test_refused_requests_queue_nothing(client, world: World, db, role):
    await finish_all_jobs(db)
    headers = world.headers(role)
    if role != "other_buyer":  # another buyer may post needs of its own, just not touch ours
        await client.post(f"{API}/needs", json=need_body(), headers=headers)
    await client.patch(f"{API}/needs/{world.need_id}", json={"title": "x"}, headers=headers)
    await client.post(f"{API}/needs/{world.need_id}/close", headers=headers)
    await client.patch(
        f"{API}/suppliers/{world.other_profile_id}", json={"employees": 99}, headers=headers
    )
    assert await queued(db, "rank_need") == 0
    assert await queued(db, "rank_supplier") == 0


async def test_a_double_submitted_profile_is_a_conflict_not_a_crash(database_url, keys, db):
    """Two requests' transactions interleaved by hand: the test client runs requests one at a
    time, so the race is driven through the handler's function on two connections."""
    org_id, _ = await keys.make("supplier")
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    principal = Principal(organisation_id=org_id, role="supplier", key_id=1)
    body = msgspec.convert(supplier_body(number), SupplierCreate)
    first, second = await connect(database_url), await connect(database_url)
    try:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await create_supplier(first, principal, body)
        await second_tx.start()
        racing = asyncio.create_task(create_supplier(second, principal, body))
        await asyncio.sleep(0.2)  # the second request is now waiting on the first's row lock
        await first_tx.commit()
        try:
            with pytest.raises(Conflict) as refused:
                await racing
            assert refused.value.errors[0].field == "org_number"
        finally:
            await second_tx.rollback()
    finally:
        await first.close()
        await second.close()
