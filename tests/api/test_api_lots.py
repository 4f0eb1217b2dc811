"""POST /api/v1/needs/lots: a need split into lots as the advice suggests, each lot a need of one
procedure; the shares add up, the first lots are reserved, and a refusal posts nothing."""

from __future__ import annotations

import asyncpg
from api_testkit import API, World, assert_problem, need_body


async def _count_needs(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM needs")
    return count


async def test_a_need_split_into_three_lots_shares_value_and_places_and_reserves_the_first_two(
    client, world: World, db
):
    body = {
        "need": need_body(estimated_value_sek=1_000_000, training_places=5),
        "lots": 3,
        "reserved_lots": 2,
    }
    response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
    assert response.status_code == 201, response.text
    posted = response.json()
    lots = posted["needs"]
    assert [lot["estimated_value_sek"] for lot in lots] == [333_334, 333_333, 333_333]
    assert [lot["training_places"] for lot in lots] == [2, 2, 1]
    assert [lot["reserved"] for lot in lots] == [True, True, False]
    assert [lot["lot_id"] for lot in lots] == ["LOT-0001", "LOT-0002", "LOT-0003"]
    assert [lot["title"] for lot in lots] == [
        f"Skollunch till tre förskolor – delkontrakt {n} av 3" for n in (1, 2, 3)
    ]
    assert {lot["procedure_id"] for lot in lots} == {posted["procedure_id"]}
    assert all(lot["buyer_id"] == world.buyer.org_id for lot in lots)
    assert all(lot["status"] == "open" and lot["kommun"] == "2580" for lot in lots)
    # Each lot is ranked like any posted need: one job each, queued with the lot.
    queued = await db.fetch(
        "SELECT entity_id FROM jobs WHERE kind = 'rank_need' ORDER BY entity_id"
    )
    assert [row["entity_id"] for row in queued][-3:] == [lot["id"] for lot in lots]

    listed = await client.get(f"{API}/needs/{lots[1]['id']}/lots")
    assert listed.status_code == 200, listed.text
    assert [lot["id"] for lot in listed.json()] == [lot["id"] for lot in lots]
    assert [lot["reserved"] for lot in listed.json()] == [True, True, False]


async def test_without_reserved_lots_every_lot_follows_the_need_and_titles_can_be_named(
    client, world: World
):
    body = {
        "need": need_body(reserved=True, estimated_value_sek=None, training_places=1),
        "lots": 2,
        "lot_titles": ["Lunch, norra Luleå", "  Lunch, södra Luleå "],
    }
    response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
    assert response.status_code == 201, response.text
    lots = response.json()["needs"]
    assert [lot["title"] for lot in lots] == ["Lunch, norra Luleå", "Lunch, södra Luleå"]
    assert [lot["reserved"] for lot in lots] == [True, True]
    assert [lot["estimated_value_sek"] for lot in lots] == [None, None]
    assert [lot["training_places"] for lot in lots] == [1, 0]


async def test_a_long_title_is_shortened_so_each_lot_title_fits(client, world: World):
    body = {"need": need_body(title="Å" * 200), "lots": 12}
    response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
    assert response.status_code == 201, response.text
    titles = [lot["title"] for lot in response.json()["needs"]]
    assert all(len(title) <= 200 for title in titles)
    assert titles[11].endswith(" – delkontrakt 12 av 12")


async def test_refused_splits_name_the_field_and_post_nothing(client, world: World, db):
    before = await _count_needs(db)
    cases = [
        ({"need": need_body(), "lots": 3, "reserved_lots": 4}, "reserved_lots"),
        ({"need": need_body(), "lots": 1}, "lots"),
        ({"need": need_body(), "lots": 51}, "lots"),
        ({"need": need_body(), "lots": 3, "lot_titles": ["a", "b"]}, "lot_titles"),
        ({"need": need_body(), "lots": 2, "lot_titles": ["a", "  "]}, "lot_titles[1]"),
        ({"need": need_body(kommun="9999"), "lots": 2}, "need.kommun"),
        ({"need": need_body(cpv_codes=["12345678-0"]), "lots": 2}, "need.cpv_codes[0]"),
        ({"need": need_body(), "lots": 2, "parts": 2}, "parts"),
    ]
    for body, field in cases:
        response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
        assert_problem(response, 422, field)
    assert await _count_needs(db) == before


async def test_only_buyers_and_admins_split_and_a_buyer_only_for_itself(client, world: World, db):
    before = await _count_needs(db)
    body = {"need": need_body(), "lots": 2}
    anonymous = await client.post(f"{API}/needs/lots", json=body)
    assert_problem(anonymous, 401)
    supplier = await client.post(f"{API}/needs/lots", json=body, headers=world.supplier.headers)
    assert_problem(supplier, 403)
    other = {"need": need_body(buyer_id=world.other_buyer.org_id), "lots": 2}
    foreign = await client.post(f"{API}/needs/lots", json=other, headers=world.buyer.headers)
    assert_problem(foreign, 403)
    assert await _count_needs(db) == before
    by_admin = await client.post(f"{API}/needs/lots", json=other, headers=world.admin.headers)
    assert by_admin.status_code == 201, by_admin.text
    assert {lot["buyer_id"] for lot in by_admin.json()["needs"]} == {world.other_buyer.org_id}


async def test_a_buyer_awaiting_approval_cannot_open_lots_and_nothing_is_posted(
    client, world: World, db
):
    await db.execute(
        "UPDATE organisations SET approved_at = NULL WHERE id = $1", world.buyer.org_id
    )
    before = await _count_needs(db)
    body = {"need": need_body(), "lots": 2}
    response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
    assert_problem(response, 422, "need.status")
    assert await _count_needs(db) == before
    drafts = {"need": need_body(status="draft"), "lots": 2}
    saved = await client.post(f"{API}/needs/lots", json=drafts, headers=world.buyer.headers)
    assert saved.status_code == 201, saved.text


async def test_draft_lots_are_listed_only_to_their_buyer(client, world: World):
    body = {"need": need_body(status="draft"), "lots": 2}
    response = await client.post(f"{API}/needs/lots", json=body, headers=world.buyer.headers)
    first = response.json()["needs"][0]["id"]
    own = await client.get(f"{API}/needs/{first}/lots", headers=world.buyer.headers)
    assert len(own.json()) == 2
    foreign = await client.get(f"{API}/needs/{first}/lots", headers=world.other_buyer.headers)
    assert_problem(foreign, 404)


async def test_a_need_not_split_has_no_lots(client, world: World):
    listed = await client.get(f"{API}/needs/{world.need_id}/lots")
    assert listed.status_code == 200
    assert listed.json() == []
