"""A buyer signs in, posts a need, sees explained matches arrive, edits, exports and closes it;
a bad form shows every error next to its field, in Swedish and in English."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from web_testkit import csrf_of, key_for, sign_in

from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings
from testkit import drain


def need_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "_csrf": csrf,
        "title": "Lokalvård av skolor i Luleå",
        "description": "Daglig städning av tre skolor och en förskola, fönsterputs två gånger per år.",
        "kommun": "Luleå",
        "cpv_1": "90910000-9 Rengöring",
        "estimated_value_sek": "400 000",
        "training_places": "2",
        "closes_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    form.update(changes)
    return form


async def test_a_buyer_posts_a_need_and_sees_explained_matches(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    mine = await client.get("/mina-behov")
    assert mine.status_code == 200
    posted = await client.post("/behov/nytt", data=need_form(csrf), follow_redirects=False)
    assert posted.status_code == 303, posted.text
    need_path = posted.headers["location"]
    need_id = int(need_path.rsplit("/", 1)[1])
    pending = await client.get(f"{need_path}/matchningar")
    assert 'data-status="pending"' in pending.text
    assert await drain(settings) >= 1
    ready = await client.get(f"{need_path}/matchningar")
    assert 'data-status="ready"' in ready.text
    assert ready.text.count('data-testid="match"') >= 1
    # Reasons come from the structure, in Swedish.
    assert "Verkar i" in ready.text
    assert "Matchande ord:" in ready.text
    export = await client.get(f"/behov/{need_id}/matchningar.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Plats;ASF-id;ASF;Poäng;Varför")
    assert len(lines) >= 2


async def test_a_bad_need_form_lists_every_error_by_its_field_in_swedish_and_english(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    bad = need_form(
        csrf,
        title="",
        kommun="Atlantis",
        cpv_1="zzz",
        estimated_value_sek="mycket",
        closes_on="2001-01-01",
    )
    swedish = await client.post("/behov/nytt", data=bad)
    assert swedish.status_code == 422
    for field in ("title", "kommun", "cpv_1", "estimated_value_sek", "closes_on"):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', swedish.text), field
    assert "Fyll i fältet." in swedish.text
    assert "”Atlantis” är ingen kommun vi känner till" in swedish.text
    assert "Datumet har redan passerat." in swedish.text
    assert "Formuläret har 5 fel" in swedish.text
    await client.get("/sprak/en?next=/")
    english = await client.post(
        "/behov/nytt", data=need_form(csrf_of((await client.get("/behov/nytt")).text), title="")
    )
    assert english.status_code == 422
    assert "Fill in this field." in english.text


async def test_a_buyer_with_no_needs_sees_how_to_start(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    await sign_in(client, await key_for(db, demo_world.buyers["b-sf-ostra-ostergotland"]))
    mine = await client.get("/mina-behov")
    assert mine.status_code == 200
    assert 'data-testid="new-need"' in mine.text


async def test_a_buyer_edits_then_closes_a_need(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    posted = await client.post("/behov/nytt", data=need_form(csrf), follow_redirects=False)
    need_path = posted.headers["location"]
    form = await client.get(f"{need_path}/andra")
    assert 'value="Lokalvård av skolor i Luleå"' in form.text
    saved = await client.post(
        f"{need_path}/andra",
        data=need_form(csrf, title="Lokalvård, fyra skolor"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    closed = await client.post(f"{need_path}/stang", data={"_csrf": csrf}, follow_redirects=False)
    assert closed.status_code == 303
    page = await client.get(need_path)
    assert "Lokalvård, fyra skolor" in page.text
    assert "Avslutad" in page.text


async def test_another_buyers_need_shows_its_facts_but_not_its_matches(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    await sign_in(client, await key_for(db, demo_world.buyers["b-borlange"]))
    theirs = await db.fetchval(
        "SELECT id FROM needs WHERE buyer_id = $1 LIMIT 1", demo_world.buyers["b-lulea"]
    )
    page = await client.get(f"/behov/{theirs}")
    assert page.status_code == 200
    assert 'id="matches"' not in page.text
    matches = await client.get(f"/behov/{theirs}/matchningar")
    assert matches.status_code == 403
    export = await client.get(f"/behov/{theirs}/matchningar.csv")
    assert export.status_code == 403


async def test_the_prepared_example_need_posts_and_finds_asfs(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    csrf = await sign_in(client, await key_for(db, demo_world.buyers["b-lulea"]))
    form = await client.get("/behov/nytt?exempel=true")
    assert "Städning och fönsterputs av förskolor i Luleå (exempel)" in form.text
    fields = {
        name: value
        for name, value in re.findall(
            r'<input id="[^"]+" name="([a-z_0-9]+)" type="(?:text|date)"[^>]*value="([^"]*)"',
            form.text,
        )
    }
    fields["description"] = re.search(r'<textarea id="description"[^>]*>([^<]*)<', form.text).group(
        1
    )  # type: ignore[union-attr]
    fields["reserved"] = "on"
    posted = await client.post(
        "/behov/nytt", data={"_csrf": csrf, **fields}, follow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    await drain(settings)
    matches = await client.get(posted.headers["location"] + "/matchningar")
    assert 'data-testid="match"' in matches.text
