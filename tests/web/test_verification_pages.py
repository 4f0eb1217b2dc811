"""A support body records a verification on its admin page (errors next to their fields),
and the ASF's public profile and its own profile page show who verified it and when."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from web_testkit import csrf_of, key_for, sign_in

from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import swedish_today
from testkit import Keys, drain, post_supplier


async def test_an_admin_verifies_an_asf_and_its_profiles_say_so(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = next(iter(demo_world.suppliers.values()))
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    admin_id, _ = await Keys(db).make("admin", "Coompanion Norrbotten")
    await sign_in(client, await key_for(db, admin_id))
    admin_page = await client.get("/admin")
    assert f'href="/admin/verifiera/{organisation_id}"' in admin_page.text
    form = await client.get(f"/admin/verifiera/{organisation_id}")
    assert form.status_code == 200
    assert "Inga verifieringar ännu." in form.text
    csrf = csrf_of(form.text)
    refused = await client.post(
        f"/admin/verifiera/{organisation_id}",
        data={"_csrf": csrf, "verified_on": "2999-01-01", "target_group_share": "x", "note": ""},
    )
    assert refused.status_code == 422
    assert 'id="target_group_share-error"' in refused.text
    assert 'id="note-error"' in refused.text
    future = await client.post(
        f"/admin/verifiera/{organisation_id}",
        data={"_csrf": csrf, "verified_on": "2999-01-01", "target_group_share": "40", "note": "x"},
    )
    assert future.status_code == 422
    assert 'id="verified_on-error"' in future.text
    saved = await client.post(
        f"/admin/verifiera/{organisation_id}",
        data={
            "_csrf": csrf,
            "verified_on": swedish_today().isoformat(),
            "target_group_share": "40",
            "work_integration_aim": "on",
            "employee_participation": "on",
            "profits_reinvested": "on",
            "independent_of_public_sector": "on",
            "note": "Anställningslista och stadgar sedda.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    after = await client.get(saved.headers["location"])
    assert 'data-testid="verification-history"' in after.text
    assert "Anställningslista och stadgar sedda." in after.text
    client.cookies.clear()
    public = await client.get(f"/asf/{supplier_id}")
    today = swedish_today().isoformat()
    assert f"verifierade av Coompanion Norrbotten den {today}" in public.text
    # The ASF saves its profile unchanged: the verification holds.
    await sign_in(client, await key_for(db, organisation_id))
    profile = await client.get("/profil")
    assert "verifierade av Coompanion Norrbotten" in profile.text
    fields = {
        "_csrf": csrf_of(profile.text),
        "description": "Vi städar.",
        "service_lan": "25",
        "employees": "10",
        "target_group_share": "40",
        "work_integration_aim": "on",
        "employee_participation": "on",
        "profits_reinvested": "on",
        "independent_of_public_sector": "on",
        "active": "on",
    }
    kept = await client.post("/profil", data=fields, follow_redirects=False)
    assert kept.status_code == 303, kept.text
    assert "verifierade av Coompanion Norrbotten" in (await client.get("/profil")).text
    # Raising the share itself lapses it.
    changed = await client.post(
        "/profil", data={**fields, "target_group_share": "90"}, follow_redirects=False
    )
    assert changed.status_code == 303
    lapsed = await client.get(f"/asf/{supplier_id}")
    assert "gäller inte längre" in lapsed.text
    assert "andelen eller ett kriterium har ändrats" in lapsed.text


async def test_only_admins_reach_the_verification_form(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = next(iter(demo_world.suppliers.values()))
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    anonymous = await client.get(f"/admin/verifiera/{organisation_id}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/logga-in")
    await sign_in(client, await key_for(db, organisation_id))
    assert (await client.get(f"/admin/verifiera/{organisation_id}")).status_code == 403


_PROFILE: dict[str, Any] = {
    "legal_form": "ekonomisk_forening",
    "description": "Vi utför städning och lokalvård av kontor, trapphus och skolor.",
    "cpv_codes": ["90910000"],
    "service_area": ["2580"],
    "employees": 12,
    "target_group_share": 0.6,
    "work_integration_aim": True,
    "employee_participation": True,
    "profits_reinvested": True,
    "independent_of_public_sector": True,
}
_CHECK: dict[str, Any] = {
    "note": "Stadgar och anställningslista sedda.",
    "target_group_share": 0.6,
    "work_integration_aim": True,
    "employee_participation": True,
    "profits_reinvested": True,
    "independent_of_public_sector": True,
}


async def _need(keys: Keys, buyer_id: int) -> int:
    need_id: int = await keys.db.fetchval(
        """
        INSERT INTO needs (buyer_id, title, description, cpv_codes, kommun)
        VALUES ($1, 'Lokalvård av förskolor', 'Städning av tre förskolor.', '{90919200}', '2580')
        RETURNING id
        """,
        buyer_id,
    )
    return need_id


async def test_the_buyers_need_page_marks_the_verified_asf_only(
    client: AsyncTestClient[Any], keys: Keys, admin: dict[str, str], settings: Settings
) -> None:
    verified, _ = await post_supplier(client, keys, "Glansen ek. för.", _PROFILE)
    await post_supplier(client, keys, "Blänket ek. för.", _PROFILE)
    check = await client.post(
        f"/api/v1/suppliers/{verified}/verifications", json=_CHECK, headers=admin
    )
    assert check.status_code == 201
    buyer_id, _ = await keys.make("buyer", "Luleå kommun")
    need_id = await _need(keys, buyer_id)
    await drain(settings)
    await sign_in(client, await key_for(keys.db, buyer_id))
    fragment = await client.get(f"/behov/{need_id}/matchningar")
    assert fragment.status_code == 200, fragment.text
    cards = fragment.text.split('data-testid="match"')[1:]
    assert len(cards) == 2
    marked = [card for card in cards if 'class="verification valid"' in card]
    assert len(marked) == 1
    assert "Glansen ek. för." in marked[0]
    assert f"verifierade av Coompanion Test den {swedish_today().isoformat()}" in marked[0]
