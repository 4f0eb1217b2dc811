"""Following the advice from the need form: the panel's buttons post the need reserved or split
into the advised lots, and each lot's page lists the procurement's other lots."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from web_testkit import key_for, sign_in

from asfmatch.importing import ImportResult

DRAFT = {
    "title": "Lokalvård av skolor och förskolor i Järva",
    "description": "Daglig lokalvård och fönsterputs i tolv skolor och förskolor i Rinkeby.",
    "kommun": "Stockholm",
    "cpv_1": "90919300 Städning av skolor",
    "cpv_2": "90910000-9 Rengöring",
    "estimated_value_sek": "4 000 000",
    "training_places": "3",
}


async def _buyer(client: AsyncTestClient[Any], db: asyncpg.Connection, demo: ImportResult) -> str:
    return await sign_in(client, await key_for(db, demo.buyers["b-stockholm"]))


async def test_the_panel_of_a_new_need_offers_the_advised_split_and_an_edit_does_not(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _buyer(client, db, demo_world)
    form = await client.get("/behov/nytt")
    assert 'hx-post="/behov/potential?lang=sv&amp;ny=true"' in form.text
    panel = await client.post("/behov/potential?ny=true", data={"_csrf": csrf, **DRAFT})
    assert 'data-code="reserve_lots"' in panel.text
    split = re.search(r'name="split" value="(\d+):(\d+)"', panel.text)
    assert split is not None, panel.text
    lots, reserved = int(split[1]), int(split[2])
    assert lots >= 2 and 1 <= reserved <= lots
    assert f"Publicera i {lots} delkontrakt, {reserved} av dem reserverade" in panel.text
    editing = await client.post("/behov/potential", data={"_csrf": csrf, **DRAFT})
    assert 'data-code="reserve_lots"' in editing.text
    assert 'name="split"' not in editing.text


async def test_the_split_button_posts_the_lots_and_each_page_lists_them(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _buyer(client, db, demo_world)
    posted = await client.post(
        "/behov/nytt", data={"_csrf": csrf, **DRAFT, "split": "3:2"}, follow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    rows = await db.fetch(
        "SELECT id, title, estimated_value_sek, training_places, reserved, procedure_id "
        "FROM needs WHERE procedure_id LIKE 'asfmatch-%' ORDER BY lot_id"
    )
    assert [r["estimated_value_sek"] for r in rows] == [1_333_334, 1_333_333, 1_333_333]
    assert [r["training_places"] for r in rows] == [1, 1, 1]
    assert [r["reserved"] for r in rows] == [True, True, False]
    assert len({r["procedure_id"] for r in rows}) == 1
    assert posted.headers["location"] == f"/behov/{rows[0]['id']}"
    second = await client.get(f"/behov/{rows[1]['id']}")
    assert 'data-testid="lots"' in second.text
    assert "Delkontrakt i samma upphandling (3)" in second.text
    assert f'href="/behov/{rows[0]["id"]}"' in second.text
    assert 'aria-current="page"' in second.text


async def test_the_reserve_button_posts_the_need_reserved(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _buyer(client, db, demo_world)
    posted = await client.post(
        "/behov/nytt", data={"_csrf": csrf, **DRAFT, "apply": "reserve"}, follow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    need_id = int(posted.headers["location"].rsplit("/", 1)[1])
    row = await db.fetchrow("SELECT reserved, procedure_id FROM needs WHERE id = $1", need_id)
    assert row is not None
    assert row["reserved"] is True and row["procedure_id"] is None
    page = await client.get(f"/behov/{need_id}")
    assert 'data-testid="lots"' not in page.text


async def test_a_tampered_split_value_posts_the_need_whole(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _buyer(client, db, demo_world)
    before = await db.fetchval("SELECT count(*) FROM needs")
    for value in ("1:0", "3:4", "x:1", "999:1"):
        posted = await client.post(
            "/behov/nytt", data={"_csrf": csrf, **DRAFT, "split": value}, follow_redirects=False
        )
        assert posted.status_code == 303, (value, posted.text)
    assert await db.fetchval("SELECT count(*) FROM needs") == before + 4
    assert await db.fetchval("SELECT count(*) FROM needs WHERE procedure_id LIKE 'asfmatch-%'") == 0


async def test_a_split_with_a_bad_field_comes_back_with_the_error_at_the_field(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _buyer(client, db, demo_world)
    before = await db.fetchval("SELECT count(*) FROM needs")
    posted = await client.post(
        "/behov/nytt", data={"_csrf": csrf, **DRAFT, "closes_on": "2001-01-01", "split": "2:1"}
    )
    assert posted.status_code == 422
    assert 'id="closes_on"' in posted.text and 'aria-invalid="true"' in posted.text
    assert await db.fetchval("SELECT count(*) FROM needs") == before
