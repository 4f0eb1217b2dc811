"""Joint procurements and joint bids on the pages: a buyer names several kommuner, sees the
suggested group under the matches, the member reads its partners in the inbox, and an ASF
opts out on its profile page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from web_testkit import csrf_of, key_for, sign_in

from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings
from testkit import drain


def _form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "_csrf": csrf,
        "title": "Lokalvård av skolor i Luleå, Boden och Kiruna",
        "description": "Daglig städning och lokalvård av skolor och förskolor, fönsterputs.",
        "kommun": "Luleå",
        "more_kommuner": "Boden, Kiruna",
        "cpv_1": "90910000-9 Rengöring",
        "estimated_value_sek": "3 000 000",
        "training_places": "0",
        "closes_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    form.update(changes)
    return form


async def _sign_in_supplier(client: Any, db: asyncpg.Connection, supplier_id: int) -> str:
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    return await sign_in(client, await key_for(db, organisation_id))


async def test_a_joint_procurement_gets_a_group_shown_to_the_buyer_and_its_members(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    await drain(settings)
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    posted = await client.post("/behov/nytt", data=_form(csrf), follow_redirects=False)
    assert posted.status_code == 303, posted.text
    need_path = posted.headers["location"]
    page = await client.get(need_path)
    assert "Luleå, Boden, Kiruna" in page.text
    await drain(settings)
    ready = await client.get(f"{need_path}/matchningar")
    assert 'data-status="ready"' in ready.text
    assert 'data-testid="joint-bids"' in ready.text
    assert "Rent Hus i Norr AB" in ready.text and "Vandrarhem Järnet" in ready.text
    assert "Tillsammans 3\u00a0400\u00a0000 kr ≥ 3\u00a0000\u00a0000 kr" in ready.text
    edit = await client.get(f"{need_path}/andra")
    assert 'value="Boden, Kiruna"' in edit.text

    await _sign_in_supplier(client, db, demo_world.suppliers["s-kiruna-jarnet"])
    inbox = await client.get("/inkorg")
    assert "Ni kan lämna anbud tillsammans med Rent Hus i Norr AB" in inbox.text


async def test_an_unknown_kommun_among_more_kommuner_is_shown_by_its_field(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    bad = await client.post("/behov/nytt", data=_form(csrf, more_kommuner="Boden, Atlantis"))
    assert bad.status_code == 422
    assert "more_kommuner-error" in bad.text
    assert "Atlantis" in bad.text


async def test_an_asf_opts_out_of_joint_bids_on_its_profile_page(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = demo_world.suppliers["s-kiruna-jarnet"]
    await _sign_in_supplier(client, db, supplier_id)
    form = await client.get("/profil")
    assert (
        'id="joint_bids"' in form.text and "checked" in form.text.split('id="joint_bids"')[1][:80]
    )
    saved = await client.post(
        "/profil",
        data={
            "_csrf": csrf_of(form.text),
            "description": "Vandrarhem och städning i Kiruna.",
            "employees": "8",
            "target_group_share": "60",
            "service_kommuner": "Kiruna",
            "cpv_1": "90910000-9",
            "active": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert (
        await db.fetchval("SELECT joint_bids FROM supplier_profiles WHERE id = $1", supplier_id)
        is False
    )
    again = await client.get("/profil")
    assert "checked" not in again.text.split('id="joint_bids"')[1][:80]
