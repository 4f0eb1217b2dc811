"""An ASF sees a new need arrive in its inbox, answers it, and the buyer sees the answer; the
ASF edits its profile (errors by field) and manages webhooks."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from test_buyer_pages import need_form
from web_testkit import csrf_of, key_for, sign_in

from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings
from testkit import drain


async def _posted_and_told(
    client: AsyncTestClient[Any], db: asyncpg.Connection, settings: Settings, world: ImportResult
) -> tuple[int, int, str]:
    """The Luleå buyer posts a need and the worker tells the best ASFs; returns the need id,
    the organisation of one told ASF, and the buyer's key."""
    buyer_key = await key_for(db, world.buyers["b-lulea"])
    csrf = await sign_in(client, buyer_key)
    posted = await client.post("/behov/nytt", data=need_form(csrf), follow_redirects=False)
    need_id = int(posted.headers["location"].rsplit("/", 1)[1])
    await drain(settings)
    organisation_id = await db.fetchval(
        """
        SELECT s.organisation_id FROM notified_needs nn
        JOIN supplier_profiles s ON s.id = nn.supplier_id
        WHERE nn.need_id = $1 ORDER BY nn.score DESC LIMIT 1
        """,
        need_id,
    )
    assert organisation_id is not None
    client.cookies.clear()
    return need_id, organisation_id, buyer_key


async def test_an_asf_answers_a_new_need_and_the_buyer_sees_it(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    need_id, organisation_id, buyer_key = await _posted_and_told(client, db, settings, demo_world)
    await sign_in(client, await key_for(db, organisation_id))
    inbox = await client.get("/inkorg")
    assert inbox.status_code == 200
    assert "Lokalvård av skolor i Luleå" in inbox.text
    action = "/inkorg/{}/svar"
    notification_id = int(inbox.text.split('action="/inkorg/', 1)[1].split("/", 1)[0])
    answered = await client.post(
        action.format(notification_id),
        data={
            "_csrf": csrf_of(inbox.text),
            "need_id": str(need_id),
            "interest": "interested",
            "reason": "Vi städar redan två skolor i Luleå.",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303
    again = await client.get("/inkorg")
    assert "Ni svarade: intresserade" in again.text
    client.cookies.clear()
    await sign_in(client, buyer_key)
    matches = await client.get(f"/behov/{need_id}/matchningar")
    assert "Intresserad: Vi städar redan två skolor i Luleå." in matches.text


async def test_the_inbox_poller_returns_only_what_is_new(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    _, organisation_id, _ = await _posted_and_told(client, db, settings, demo_world)
    await sign_in(client, await key_for(db, organisation_id))
    news = await client.get("/inkorg/nya?efter=0")
    assert 'data-testid="notification"' in news.text
    latest = int(news.text.split('data-latest="', 1)[1].split('"', 1)[0])
    nothing = await client.get(f"/inkorg/nya?efter={latest}")
    assert 'data-testid="notification"' not in nothing.text
    assert f'data-latest="{latest}"' in nothing.text


async def test_profile_errors_are_shown_by_field(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = next(iter(demo_world.suppliers.values()))
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    csrf = await sign_in(client, await key_for(db, organisation_id))
    form = await client.get("/profil")
    assert form.status_code == 200
    bad = await client.post(
        "/profil",
        data={
            "_csrf": csrf,
            "description": "",
            "employees": "många",
            "target_group_share": "150",
            "service_kommuner": "Atlantis",
        },
    )
    assert bad.status_code == 422
    for field in ("description", "employees", "target_group_share", "service_kommuner"):
        assert f'id="{field}"' in bad.text
        assert f"{field}-error" in bad.text, field
    good = await client.post(
        "/profil",
        data={
            "_csrf": csrf,
            "description": "Städning och fönsterputs i Norrbotten.",
            "employees": "12",
            "target_group_share": "60",
            "service_lan": "25",
            "cpv_1": "90910000-9",
            "active": "on",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    public = await client.get(f"/asf/{supplier_id}")
    assert "Städning och fönsterputs i Norrbotten." in public.text


async def test_webhooks_show_the_secret_once_and_refuse_a_bad_address(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = next(iter(demo_world.suppliers.values()))
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    csrf = await sign_in(client, await key_for(db, organisation_id))
    bad = await client.post("/webhooks", data={"_csrf": csrf, "url": "not a url"})
    assert bad.status_code == 422
    assert 'id="url-error"' in bad.text
    listing = await client.get("/webhooks")
    assert listing.status_code == 200
    assert 'data-testid="secret"' not in listing.text


async def test_notification_preferences_are_saved_from_the_form(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    supplier_id = next(iter(demo_world.suppliers.values()))
    organisation_id = await db.fetchval(
        "SELECT organisation_id FROM supplier_profiles WHERE id = $1", supplier_id
    )
    csrf = await sign_in(client, await key_for(db, organisation_id))
    saved = await client.post(
        "/profil/notiser",
        data={
            "_csrf": csrf,
            "min_score": "40",
            "channels": ["webhook"],
            "digest_frequency": "weekly",
            "lan": ["25", "99"],
        },
    )
    assert saved.status_code == 200
    assert 'data-testid="saved"' in saved.text
    row = await db.fetchrow(
        "SELECT min_score, channels, digest_frequency, lan FROM notification_preferences "
        "WHERE supplier_id = $1",
        supplier_id,
    )
    assert row["min_score"] == 0.4
    assert row["channels"] == ["inbox", "webhook"]
    assert row["digest_frequency"] == "weekly"
    assert row["lan"] == ["25"]
