"""Who may do what: the endpoint x role matrix, draft visibility, contact e-mail visibility and
bad credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from api_testkit import API, ROLES, World, assert_problem, need_body, new_org_number, supplier_body


class Row(NamedTuple):
    """One endpoint: how to call it and the status each role gets."""

    method: str
    path: str  # formatted with the world's ids
    expected: dict[str, int]
    body: Callable[[World, str], Any] | None = None


def statuses(ok: int, allowed: set[str], refused: int = 403, **special: int) -> dict[str, int]:
    """`ok` for the allowed roles, 401 anonymous, `refused` for the rest, then `special`."""
    table = {role: ok if role in allowed else refused for role in ROLES}
    if "anonymous" not in allowed:
        table["anonymous"] = 401
    table.update(special)
    return table


EVERYONE = set(ROLES)
ADMIN = {"admin"}
BUYER_OR_ADMIN = {"admin", "buyer"}
SUPPLIER_OR_ADMIN = {"admin", "supplier"}
ANY_KEY = EVERYONE - {"anonymous"}


def _need_for(world: World, role: str) -> dict[str, Any]:
    # An admin acts for a buyer and names it; buyers post for themselves.
    return need_body(buyer_id=world.buyer.org_id) if role == "admin" else need_body()


MATRIX: list[Row] = [
    # needs
    Row("POST", "/needs", statuses(201, {"admin", "buyer", "other_buyer"}), _need_for),
    Row("GET", "/needs", statuses(200, EVERYONE)),
    Row("GET", "/needs/{need}", statuses(200, EVERYONE)),
    Row("GET", "/needs/{draft}", statuses(200, BUYER_OR_ADMIN, refused=404, anonymous=404)),
    Row(
        "PATCH",
        "/needs/{need}",
        statuses(200, BUYER_OR_ADMIN),
        lambda world, role: {"title": f"Ändrad av {role}"},
    ),
    Row(
        "PATCH",
        "/needs/{draft}",
        statuses(200, BUYER_OR_ADMIN, other_buyer=404),  # a draft does not exist for others
        lambda world, role: {"training_places": 5},
    ),
    Row("POST", "/needs/{need}/close", statuses(200, BUYER_OR_ADMIN)),
    Row("POST", "/needs/{need}/withdraw", statuses(200, BUYER_OR_ADMIN)),
    # suppliers
    Row(
        "POST",
        "/suppliers",
        statuses(201, ADMIN),  # for a supplier key this number is not its own: 403
        lambda world, role: supplier_body(new_org_number()),
    ),
    Row("GET", "/suppliers", statuses(200, EVERYONE)),
    Row("GET", "/suppliers/{profile}", statuses(200, EVERYONE)),
    Row(
        "PATCH",
        "/suppliers/{profile}",
        statuses(200, SUPPLIER_OR_ADMIN),
        lambda world, role: {"description": f"Ändrad av {role}"},
    ),
    # organisations and keys
    Row(
        "POST",
        "/organisations",
        statuses(201, ADMIN),
        lambda world, role: {"kind": "buyer", "name": "Region X", "org_number": new_org_number()},
    ),
    Row("GET", "/organisations", statuses(200, ADMIN)),
    Row("GET", "/organisations/{buyer_org}", statuses(200, BUYER_OR_ADMIN)),
    Row("GET", "/organisations/{supplier_org}", statuses(200, SUPPLIER_OR_ADMIN)),
    Row("GET", "/organisations/{buyer_org}/keys", statuses(200, BUYER_OR_ADMIN)),
    Row("POST", "/organisations/{buyer_org}/keys", statuses(201, BUYER_OR_ADMIN)),
    Row("POST", "/organisations/{supplier_org}/keys", statuses(201, SUPPLIER_OR_ADMIN)),
    Row("DELETE", "/organisations/{buyer_org}/keys/{spare_key}", statuses(200, BUYER_OR_ADMIN)),
    Row("GET", "/me", statuses(200, ANY_KEY)),
    # reference data is public
    Row("GET", "/regions", statuses(200, EVERYONE)),
    Row("GET", "/regions/25", statuses(200, EVERYONE)),
    Row("GET", "/cpv?q=catering", statuses(200, EVERYONE)),
]


def _path(world: World, template: str) -> str:
    return API + template.format(
        need=world.need_id,
        draft=world.draft_id,
        profile=world.profile_id,
        buyer_org=world.buyer.org_id,
        supplier_org=world.supplier.org_id,
        spare_key=world.spare_key_id,
    )


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method} {row.path}")
async def test_auth_matrix(client, world: World, row: Row):
    """Every role in turn against one endpoint (fixed order; the writes involved are
    idempotent or hit fresh ids, so earlier roles cannot change later roles' answers)."""
    wrong = []
    for role in ROLES:
        body = row.body(world, role) if row.body else None
        response = await client.request(
            row.method, _path(world, row.path), json=body, headers=world.headers(role)
        )
        expected = row.expected[role]
        if response.status_code != expected:
            wrong.append((role, response.status_code, expected, response.text[:200]))
        elif expected >= 400:
            assert_problem(response, expected)
    assert not wrong, wrong


async def test_health_is_public(client, world: World):
    for role in ROLES:
        assert (await client.get("/health", headers=world.headers(role))).status_code == 200


# --- cases the matrix cannot express ------------------------------------------------------------


async def test_admin_posting_a_need_without_buyer_id_is_422(client, world: World):
    response = await client.post(f"{API}/needs", json=need_body(), headers=world.admin.headers)
    assert_problem(response, 422, "buyer_id")


async def test_buyer_cannot_post_a_need_for_another_buyer(client, world: World, db):
    response = await client.post(
        f"{API}/needs",
        json=need_body(buyer_id=world.other_buyer.org_id),
        headers=world.buyer.headers,
    )
    assert_problem(response, 403)
    count = await db.fetchval(
        "SELECT count(*) FROM needs WHERE buyer_id = $1", world.other_buyer.org_id
    )
    assert count == 0


async def test_supplier_creates_the_profile_of_its_own_organisation(client, keys, db):
    org_id, headers = await keys.make("supplier")
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    response = await client.post(f"{API}/suppliers", json=supplier_body(number), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["organisation_id"] == org_id


@pytest.mark.parametrize("owner", ["other_supplier_without_profile", "buyer", "unregistered"])
async def test_supplier_cannot_create_a_profile_for_another_number(
    client, world: World, keys, db, owner
):
    if owner == "buyer":
        number = world.buyer.org_number
    elif owner == "unregistered":
        number = new_org_number()
    else:
        org_id, _ = await keys.make("supplier")
        number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    response = await client.post(
        f"{API}/suppliers", json=supplier_body(number), headers=world.supplier.headers
    )
    assert_problem(response, 403)
    assert await db.fetchval("SELECT count(*) FROM supplier_profiles") == 2


async def test_refused_writes_change_nothing(client, world: World):
    need_url = f"{API}/needs/{world.need_id}"
    profile_url = f"{API}/suppliers/{world.profile_id}"
    need_before = (await client.get(need_url)).json()
    profile_before = (await client.get(profile_url, headers=world.admin.headers)).json()
    for role in ("anonymous", "other_buyer", "supplier", "other_supplier"):
        headers = world.headers(role)
        await client.patch(need_url, json={"title": "kapad"}, headers=headers)
        await client.post(f"{need_url}/close", headers=headers)
        await client.post(f"{need_url}/withdraw", headers=headers)
    for role in ("anonymous", "buyer", "other_buyer", "other_supplier"):
        await client.patch(profile_url, json={"name": "kapad"}, headers=world.headers(role))
    assert (await client.get(need_url)).json() == need_before
    assert (await client.get(profile_url, headers=world.admin.headers)).json() == profile_before


# --- drafts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_draft"),
    [
        ("anonymous", False),
        ("admin", True),
        ("buyer", True),
        ("other_buyer", False),
        ("supplier", False),
        ("other_supplier", False),
    ],
)
async def test_drafts_are_listed_only_to_their_buyer_and_admins(
    client, world: World, role, sees_draft
):
    headers = world.headers(role)
    listed = (await client.get(f"{API}/needs", headers=headers)).json()
    ids = {item["id"] for item in listed["items"]}
    assert (world.draft_id in ids) is sees_draft
    assert world.need_id in ids
    assert listed["total"] == (2 if sees_draft else 1)
    drafts = (await client.get(f"{API}/needs?status=draft", headers=headers)).json()
    assert drafts["total"] == (1 if sees_draft else 0)
    by_buyer = await client.get(
        f"{API}/needs?status=draft&buyer_id={world.buyer.org_id}", headers=headers
    )
    assert by_buyer.json()["total"] == (1 if sees_draft else 0)


async def test_other_buyers_drafts_do_not_leak_to_a_buyer(client, world: World):
    other_draft = await client.post(
        f"{API}/needs",
        json=need_body(title="Annan", status="draft"),
        headers=world.other_buyer.headers,
    )
    listed = (await client.get(f"{API}/needs", headers=world.buyer.headers)).json()
    ids = {item["id"] for item in listed["items"]}
    assert world.draft_id in ids
    assert other_draft.json()["id"] not in ids


async def test_a_draft_cannot_be_closed_by_another_buyer(client, world: World):
    response = await client.post(
        f"{API}/needs/{world.draft_id}/close", headers=world.other_buyer.headers
    )
    assert_problem(response, 404)


# --- contact e-mail ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees_email"),
    [
        ("anonymous", False),
        ("admin", True),
        ("buyer", False),
        ("other_buyer", False),
        ("supplier", True),
        ("other_supplier", False),
    ],
)
async def test_contact_email_shows_only_to_the_supplier_and_admins(
    client, world: World, role, sees_email
):
    headers = world.headers(role)
    expected = "kontakt@matgladje.example.se" if sees_email else None
    one = (await client.get(f"{API}/suppliers/{world.profile_id}", headers=headers)).json()
    assert one["contact_email"] == expected
    listed = await client.get(f"{API}/suppliers", headers=headers)
    by_id = {item["id"]: item for item in listed.json()["items"]}
    assert by_id[world.profile_id]["contact_email"] == expected
    # The other supplier's address shows to admins only (and to that supplier).
    other_expected = "stad@example.se" if role in {"admin", "other_supplier"} else None
    assert by_id[world.other_profile_id]["contact_email"] == other_expected
    # A profile the caller may not see the address of carries no trace of it.
    if not sees_email:
        assert "matgladje.example.se" not in listed.text


# --- credentials --------------------------------------------------------------------------------


async def test_unknown_bearer_token_is_401_even_on_public_reads(client):
    headers = {"Authorization": "Bearer asfm_deadbeef_" + "A" * 43}
    for url in ("/needs", "/suppliers", "/me", "/regions"):
        response = await client.get(API + url, headers=headers)
        if url == "/regions":
            # Reference data does not look at credentials at all.
            assert response.status_code == 200
        else:
            assert_problem(response, 401)


async def test_malformed_authorization_header_is_401(client, world: World):
    secret = world.buyer.headers["Authorization"].removeprefix("Bearer ")
    for value in (secret, f"Basic {secret}", f"Token {secret}", "Bearer", "Bearer  "):
        response = await client.get(f"{API}/needs", headers={"Authorization": value})
        assert_problem(response, 401)
    # The scheme is case-insensitive and surrounding spaces are forgiven.
    for value in (f"bearer {secret}", f"BEARER {secret}", f"Bearer   {secret}  "):
        response = await client.get(f"{API}/me", headers={"Authorization": value})
        assert response.status_code == 200, value


async def test_revoked_key_is_401_everywhere(client, world: World, db):
    key_id = await db.fetchval(
        "SELECT id FROM api_keys WHERE organisation_id = $1 AND label = 'test'",
        world.supplier.org_id,
    )
    revoked = await client.delete(
        f"{API}/organisations/{world.supplier.org_id}/keys/{key_id}",
        headers=world.supplier.headers,
    )
    assert revoked.status_code == 200
    headers = world.supplier.headers
    for method, url, body in [
        ("GET", "/me", None),
        ("GET", "/suppliers", None),
        ("PATCH", f"/suppliers/{world.profile_id}", {"employees": 1}),
        ("POST", f"/organisations/{world.supplier.org_id}/keys", None),
    ]:
        response = await client.request(method, API + url, json=body, headers=headers)
        assert_problem(response, 401)
    profile = (await client.get(f"{API}/suppliers/{world.profile_id}")).json()
    assert profile["employees"] == 14


async def test_a_key_cannot_be_used_for_another_organisation_by_changing_the_path(
    client, world: World
):
    response = await client.post(
        f"{API}/organisations/{world.other_buyer.org_id}/keys", headers=world.buyer.headers
    )
    assert_problem(response, 403)
    listing = await client.get(
        f"{API}/organisations/{world.other_buyer.org_id}/keys", headers=world.admin.headers
    )
    assert len(listing.json()) == 1


async def test_401_names_the_bearer_scheme(client):
    response = await client.get(f"{API}/me")
    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
