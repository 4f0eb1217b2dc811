"""Create, read, update and list through the API: suppliers, needs, organisations, keys, /me."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from api_testkit import (
    API,
    World,
    assert_problem,
    need_body,
    new_org_number,
    supplier_body,
)

# --- suppliers --------------------------------------------------------------------------------


async def test_admin_creates_a_supplier_profile_for_a_new_organisation(client, admin, db):
    number = new_org_number()
    response = await client.post(f"{API}/suppliers", json=supplier_body(number), headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["org_number"] == number
    assert created["name"] == "Kooperativet Matglädje"
    assert created["service_area"] == ["25"]
    assert created["cpv_codes"] == ["55520000"]
    assert created["target_group_share"] == 0.6
    assert created["active"] is True
    kind = await db.fetchval("SELECT kind FROM organisations WHERE org_number = $1", number)
    assert kind == "supplier"

    read = await client.get(f"{API}/suppliers/{created['id']}", headers=admin)
    assert read.status_code == 200
    assert read.json() == created


async def test_supplier_creates_its_own_profile_with_an_unhyphenated_number(client, keys, db):
    org_id, headers = await keys.make("supplier")
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    body = supplier_body(number.replace("-", ""), name="  Nytt Namn  ")
    response = await client.post(f"{API}/suppliers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["organisation_id"] == org_id
    assert response.json()["org_number"] == number
    # The profile's name is the organisation's name, trimmed.
    assert response.json()["name"] == "Nytt Namn"
    assert await db.fetchval("SELECT name FROM organisations WHERE id = $1", org_id) == "Nytt Namn"


async def test_admin_attaches_a_profile_to_an_existing_supplier_organisation(client, keys, admin):
    org_id, headers = await keys.make("supplier")
    me = (await client.get(f"{API}/me", headers=headers)).json()
    response = await client.post(
        f"{API}/suppliers",
        json=supplier_body(me["organisation"]["org_number"]),
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["organisation_id"] == org_id


async def test_a_second_profile_for_one_organisation_is_a_conflict(client, world: World):
    response = await client.post(
        f"{API}/suppliers",
        json=supplier_body(world.supplier.org_number),
        headers=world.supplier.headers,
    )
    assert_problem(response, 409, "org_number")


async def test_admin_cannot_make_a_buyer_organisation_a_supplier(client, world: World):
    response = await client.post(
        f"{API}/suppliers", json=supplier_body(world.buyer.org_number), headers=world.admin.headers
    )
    assert_problem(response, 409, "org_number")


async def test_supplier_updates_its_profile_and_absent_fields_stay(client, world: World):
    url = f"{API}/suppliers/{world.profile_id}"
    before = (await client.get(url, headers=world.supplier.headers)).json()
    response = await client.patch(
        url,
        json={"employees": 20, "service_area": ["2580", "2581"], "contact_email": None},
        headers=world.supplier.headers,
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["employees"] == 20
    assert after["service_area"] == ["2580", "2581"]
    assert after["contact_email"] is None
    for unchanged in ("name", "description", "cpv_codes", "target_group_share", "legal_form"):
        assert after[unchanged] == before[unchanged]
    assert (await client.get(url)).json()["employees"] == 20


async def test_renaming_a_supplier_renames_its_organisation(client, world: World, db):
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"name": "Matglädje Norr"},
        headers=world.supplier.headers,
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Matglädje Norr"
    name = await db.fetchval("SELECT name FROM organisations WHERE id = $1", world.supplier.org_id)
    assert name == "Matglädje Norr"


async def test_deactivated_supplier_is_listed_as_inactive(client, world: World):
    response = await client.patch(
        f"{API}/suppliers/{world.profile_id}",
        json={"active": False},
        headers=world.supplier.headers,
    )
    assert response.json()["active"] is False
    listed = (await client.get(f"{API}/suppliers", params={"active": "false"})).json()
    assert [item["id"] for item in listed["items"]] == [world.profile_id]


async def test_suppliers_list_in_id_order_with_total(client, world: World):
    response = await client.get(f"{API}/suppliers")
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 2
    assert page["page"] == 1 and page["page_size"] == 20
    assert [item["id"] for item in page["items"]] == sorted(
        [world.profile_id, world.other_profile_id]
    )


# --- needs ------------------------------------------------------------------------------------


async def test_buyer_posts_a_need_and_reads_it_back(client, world: World):
    closes = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    body = need_body(title="  Lokalvård i skolor  ", closes_at=closes.isoformat(), reserved=True)
    response = await client.post(f"{API}/needs", json=body, headers=world.buyer.headers)
    assert response.status_code == 201, response.text
    need = response.json()
    assert need["title"] == "Lokalvård i skolor"
    assert need["buyer_id"] == world.buyer.org_id
    assert need["buyer_name"] == "Luleå kommun"
    assert need["kommun"] == "2580" and need["lan"] == "25"
    assert need["cpv_codes"] == ["55524000"]
    assert need["status"] == "open"
    assert need["reserved"] is True
    assert datetime.fromisoformat(need["closes_at"]) == closes

    read = await client.get(f"{API}/needs/{need['id']}")
    assert read.status_code == 200
    assert read.json() == need


async def test_admin_posts_a_need_for_a_buyer(client, world: World):
    response = await client.post(
        f"{API}/needs",
        json=need_body(buyer_id=world.other_buyer.org_id),
        headers=world.admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["buyer_id"] == world.other_buyer.org_id


async def test_admin_cannot_post_a_need_for_a_supplier(client, world: World):
    response = await client.post(
        f"{API}/needs",
        json=need_body(buyer_id=world.supplier.org_id),
        headers=world.admin.headers,
    )
    assert_problem(response, 422, "buyer_id")


async def test_buyer_naming_itself_as_buyer_id_is_fine(client, world: World):
    response = await client.post(
        f"{API}/needs", json=need_body(buyer_id=world.buyer.org_id), headers=world.buyer.headers
    )
    assert response.status_code == 201


async def test_buyer_updates_a_need_and_kommun_moves_its_lan(client, world: World):
    url = f"{API}/needs/{world.need_id}"
    response = await client.patch(
        url,
        json={"kommun": "0180", "estimated_value_sek": None, "title": "Ny titel"},
        headers=world.buyer.headers,
    )
    assert response.status_code == 200, response.text
    need = response.json()
    assert need["kommun"] == "0180" and need["lan"] == "01"
    assert need["estimated_value_sek"] is None
    assert need["title"] == "Ny titel"
    assert need["cpv_codes"] == ["55524000"]  # untouched
    assert need["updated_at"] >= need["created_at"]
    assert (await client.get(url)).json() == need


async def test_buyer_publishes_a_draft(client, world: World):
    url = f"{API}/needs/{world.draft_id}"
    assert (await client.get(url)).status_code == 404
    response = await client.patch(url, json={"status": "open"}, headers=world.buyer.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert (await client.get(url)).status_code == 200


async def test_closing_a_need_marks_it_closed_and_is_idempotent(client, world: World):
    url = f"{API}/needs/{world.need_id}/close"
    first = await client.post(url, headers=world.buyer.headers)
    assert first.status_code == 200
    assert first.json()["status"] == "closed"
    again = await client.post(url, headers=world.buyer.headers)
    assert again.status_code == 200
    assert again.json()["status"] == "closed"
    listed = await client.get(f"{API}/needs", params={"status": "closed"})
    assert [item["id"] for item in listed.json()["items"]] == [world.need_id]


async def test_withdrawing_a_need_marks_it_withdrawn(client, world: World):
    response = await client.post(
        f"{API}/needs/{world.need_id}/withdraw", headers=world.admin.headers
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert (await client.get(f"{API}/needs/{world.need_id}")).json()["status"] == "withdrawn"


async def test_closed_need_cannot_be_edited(client, world: World):
    await client.post(f"{API}/needs/{world.need_id}/close", headers=world.buyer.headers)
    response = await client.patch(
        f"{API}/needs/{world.need_id}", json={"title": "x"}, headers=world.buyer.headers
    )
    assert_problem(response, 409)


async def test_a_withdrawn_need_cannot_then_be_closed(client, world: World):
    url = f"{API}/needs/{world.need_id}"
    await client.post(f"{url}/withdraw", headers=world.buyer.headers)
    response = await client.post(f"{url}/close", headers=world.buyer.headers)
    assert_problem(response, 409)
    assert (await client.get(url)).json()["status"] == "withdrawn"


async def test_status_closed_cannot_be_set_by_patch(client, world: World):
    response = await client.patch(
        f"{API}/needs/{world.need_id}", json={"status": "closed"}, headers=world.buyer.headers
    )
    assert_problem(response, 422, "status")


async def test_needs_list_newest_first(client, world: World):
    extra = await client.post(f"{API}/needs", json=need_body(), headers=world.buyer.headers)
    page = (await client.get(f"{API}/needs")).json()
    # The draft is invisible to an anonymous caller.
    assert [item["id"] for item in page["items"]] == [extra.json()["id"], world.need_id]
    assert page["total"] == 2


# --- organisations and keys ---------------------------------------------------------------------


async def test_admin_onboards_an_organisation(client, admin):
    number = new_org_number(hyphen=False)
    response = await client.post(
        f"{API}/organisations",
        json={"kind": "buyer", "name": " Region Norrbotten ", "org_number": number},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["kind"] == "buyer"
    assert created["name"] == "Region Norrbotten"
    assert created["org_number"] == f"{number[:6]}-{number[6:]}"

    read = await client.get(f"{API}/organisations/{created['id']}", headers=admin)
    assert read.json() == created
    listed = await client.get(f"{API}/organisations", params={"kind": "buyer"}, headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert listed.json()["total"] == 1


async def test_registering_an_organisation_number_twice_is_a_conflict(client, admin):
    body = {"kind": "supplier", "name": "A", "org_number": new_org_number()}
    assert (await client.post(f"{API}/organisations", json=body, headers=admin)).status_code == 201
    again = await client.post(
        f"{API}/organisations",
        json={**body, "org_number": body["org_number"].replace("-", "")},
        headers=admin,
    )
    assert_problem(again, 409, "org_number")


async def test_organisation_list_pages_and_counts(client, admin):
    for serial in range(3):
        body = {"kind": "buyer", "name": f"Kommun {serial}", "org_number": new_org_number()}
        await client.post(f"{API}/organisations", json=body, headers=admin)
    first = (await client.get(f"{API}/organisations?page_size=2", headers=admin)).json()
    second = (await client.get(f"{API}/organisations?page_size=2&page=2", headers=admin)).json()
    assert first["total"] == second["total"] == 4  # three buyers and the admin itself
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 4


async def test_created_key_is_shown_once_with_prefix_and_256_bits(client, world: World):
    response = await client.post(
        f"{API}/organisations/{world.buyer.org_id}/keys",
        json={"label": "upphandlingssystem"},
        headers=world.buyer.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret: str = created["key"]
    listing = created["api_key"]
    assert secret.startswith("asfm_")
    assert listing["prefix"].startswith("asfm_")
    assert secret.startswith(listing["prefix"] + "_")
    random_part = secret[len(listing["prefix"]) + 1 :]
    assert len(random_part) >= 43  # 32 bytes in URL-safe base64
    assert len(base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))) >= 32
    assert listing["label"] == "upphandlingssystem"
    assert listing["revoked_at"] is None

    # The new key works at once and belongs to the buyer.
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["organisation"]["id"] == world.buyer.org_id
    assert me.json()["key_id"] == listing["id"]


async def test_two_keys_never_share_a_secret(client, world: World):
    url = f"{API}/organisations/{world.buyer.org_id}/keys"
    first = (await client.post(url, headers=world.buyer.headers)).json()
    second = (await client.post(url, json={}, headers=world.buyer.headers)).json()
    assert first["key"] != second["key"]
    assert first["api_key"]["prefix"] != second["api_key"]["prefix"]


async def test_key_listing_never_shows_a_secret(client, world: World):
    url = f"{API}/organisations/{world.buyer.org_id}/keys"
    secret = (await client.post(url, headers=world.buyer.headers)).json()["key"]
    listing = await client.get(url, headers=world.buyer.headers)
    assert listing.status_code == 200
    keys = listing.json()
    assert len(keys) == 3  # the test key, the spare and the new one
    assert secret not in listing.text
    own_secret = world.buyer.headers["Authorization"].removeprefix("Bearer ")
    assert own_secret not in listing.text
    for key in keys:
        assert set(key) == {
            "id",
            "organisation_id",
            "prefix",
            "label",
            "created_at",
            "last_used_at",
            "revoked_at",
        }
    assert [key["id"] for key in keys] == sorted((key["id"] for key in keys), reverse=True)


async def test_revoked_key_gets_401_afterwards(client, world: World):
    url = f"{API}/organisations/{world.buyer.org_id}/keys"
    created = (await client.post(url, headers=world.buyer.headers)).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get(f"{API}/me", headers=headers)).status_code == 200

    revoked = await client.delete(f"{url}/{created['api_key']['id']}", headers=world.buyer.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    assert_problem(await client.get(f"{API}/me", headers=headers), 401)
    # Even public reads refuse a revoked key rather than silently treating it as anonymous.
    assert_problem(await client.get(f"{API}/needs", headers=headers), 401)
    # The other keys still work, and the listing shows the revocation.
    listing = (await client.get(url, headers=world.buyer.headers)).json()
    by_id = {key["id"]: key for key in listing}
    assert by_id[created["api_key"]["id"]]["revoked_at"] is not None


async def test_revoking_twice_keeps_the_first_revocation_time(client, world: World):
    url = f"{API}/organisations/{world.buyer.org_id}/keys/{world.spare_key_id}"
    first = (await client.delete(url, headers=world.buyer.headers)).json()
    second = await client.delete(url, headers=world.admin.headers)
    assert second.status_code == 200
    assert second.json()["revoked_at"] == first["revoked_at"]


async def test_buyer_cannot_revoke_another_organisations_key_via_its_own_path(
    client, world: World, db
):
    other_key = await db.fetchval(
        "SELECT id FROM api_keys WHERE organisation_id = $1", world.other_buyer.org_id
    )
    response = await client.delete(
        f"{API}/organisations/{world.buyer.org_id}/keys/{other_key}",
        headers=world.buyer.headers,
    )
    assert_problem(response, 404)
    assert (await client.get(f"{API}/me", headers=world.other_buyer.headers)).status_code == 200


async def test_key_use_is_recorded(client, world: World, db):
    await client.get(f"{API}/me", headers=world.supplier.headers)
    used = await db.fetchval(
        "SELECT last_used_at FROM api_keys WHERE organisation_id = $1", world.supplier.org_id
    )
    assert used is not None


async def test_me_names_the_organisation_role_and_key(client, world: World, db):
    response = await client.get(f"{API}/me", headers=world.supplier.headers)
    assert response.status_code == 200
    me = response.json()
    assert me["role"] == "supplier"
    assert me["organisation"]["id"] == world.supplier.org_id
    assert me["organisation"]["org_number"] == world.supplier.org_number
    key_id = await db.fetchval(
        "SELECT id FROM api_keys WHERE organisation_id = $1", world.supplier.org_id
    )
    assert me["key_id"] == key_id


async def test_me_without_a_key_is_401(client):
    assert_problem(await client.get(f"{API}/me"), 401)
