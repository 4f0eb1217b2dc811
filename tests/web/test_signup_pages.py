"""Self-service sign-up: an ASF or a buyer registers itself and sees its key once; nobody sees
or hears from it until an admin approves it; bad numbers and floods are refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from test_buyer_pages import need_form
from web_testkit import csrf_of, sign_in

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings
from testkit import Keys, drain

# Luhn-valid, made up for the tests.
ASF_NUMBER = "769000-0018"
BUYER_NUMBER = "212000-0001"


def asf_form(csrf: str, **changes: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "_csrf": csrf,
        "kind": "supplier",
        "name": "Kooperativet Testbädden",
        "org_number": ASF_NUMBER,
        "contact_email": "hej@testbadden.example",
        "legal_form": "ekonomisk_forening",
        "description": "Vi städar kontor och trapphus i Luleå och tar emot praktikanter.",
        "home_kommun": "Luleå",
        "service_lan": ["25"],
        "employees": "12",
        "target_group_share": "60",
        "work_integration_aim": "on",
    }
    form.update(changes)
    return form


async def _form_token(client: AsyncTestClient[Any]) -> str:
    return csrf_of((await client.get("/registrera")).text)


async def test_an_asf_registers_and_appears_only_after_an_admin_approves_it(
    client: AsyncTestClient[Any], db: asyncpg.Connection, settings: Settings, keys: Keys
) -> None:
    assert 'href="/registrera"' in (await client.get("/logga-in")).text
    done = await client.post("/registrera", data=asf_form(await _form_token(client)))
    assert done.status_code == 200, done.text
    key = re.search(r'data-testid="new-key"', done.text) and re.search(
        r'value="(asfm_[^"]+)"', done.text
    )
    assert key, "the key is shown once"
    assert done.headers["cache-control"] == "no-store"
    assert "Inloggad som Kooperativet Testbädden" in done.text
    supplier_id, active = await db.fetchrow(
        "SELECT s.id, s.active FROM supplier_profiles s JOIN organisations o"
        " ON o.id = s.organisation_id WHERE o.org_number = $1",
        ASF_NUMBER,
    )
    assert active is False
    # Signed in at once, but not public and not to be made public by itself.
    profile = await client.get("/profil")
    assert 'data-testid="pending-note"' in profile.text
    assert (await client.get(f"/asf/{supplier_id}")).status_code == 404
    directory = await client.get("/asf?q=Testbädden")
    assert 'data-testid="supplier-card"' not in directory.text
    form = dict(asf_form(csrf_of(profile.text)), active="on")
    refused = await client.post("/profil", data=form)
    assert refused.status_code == 422
    assert "Väntar på att en administratör godkänner organisationen" in refused.text
    assert 'id="active"' in refused.text and 'aria-invalid="true"' in refused.text
    # The key works for the API too.
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key.group(1)}"})
    assert me.status_code == 200
    # An admin approves: the profile goes live and is ranked.
    client.cookies.clear()
    _, admin = await keys.make("admin")
    csrf = await sign_in(client, admin["Authorization"].removeprefix("Bearer "))
    admin_page = await client.get("/admin")
    assert "Kooperativet Testbädden" in admin_page.text
    organisation_id = await db.fetchval(
        "SELECT id FROM organisations WHERE org_number = $1", ASF_NUMBER
    )
    approved = await client.post(
        f"/admin/godkann/{organisation_id}", data={"_csrf": csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    await drain(settings)
    assert (await client.get(f"/asf/{supplier_id}")).status_code == 200


async def test_a_bad_sign_up_lists_every_error_by_its_field_in_both_languages(
    client: AsyncTestClient[Any],
) -> None:
    csrf = await _form_token(client)
    bad = asf_form(csrf, org_number="769000-0019", contact_email="", description="")
    swedish = await client.post("/registrera", data=bad)
    assert swedish.status_code == 422
    assert "sista siffran ska stämma" in swedish.text
    for field in ("org_number", "contact_email", "description"):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', swedish.text), field
    english = await client.post("/registrera?lang=en", data=bad)
    assert "the last digit must match" in english.text


async def test_an_organisation_registers_once(client: AsyncTestClient[Any]) -> None:
    first = await client.post("/registrera", data=asf_form(await _form_token(client)))
    assert first.status_code == 200
    client.cookies.clear()
    again = await client.post("/registrera", data=asf_form(await _form_token(client)))
    assert again.status_code == 422
    assert "redan registrerad" in again.text


async def test_a_waiting_buyer_keeps_drafts_but_cannot_publish(
    client: AsyncTestClient[Any], db: asyncpg.Connection
) -> None:
    signed_up = await client.post(
        "/registrera",
        data={
            "_csrf": await _form_token(client),
            "kind": "buyer",
            "name": "Testkommunen",
            "org_number": BUYER_NUMBER,
            "contact_email": "upphandling@test.example",
        },
    )
    assert signed_up.status_code == 200, signed_up.text
    csrf = csrf_of((await client.get("/behov/nytt")).text)
    published = await client.post("/behov/nytt", data=need_form(csrf))
    assert published.status_code == 422
    assert "Väntar på att en administratör" in published.text
    drafted = await client.post(
        "/behov/nytt", data=need_form(csrf, draft="on"), follow_redirects=False
    )
    assert drafted.status_code == 303
    assert (
        await db.fetchval(
            "SELECT count(*) FROM needs WHERE status = 'open' AND title = $1",
            "Lokalvård av skolor i Luleå",
        )
        == 0
    )


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    """The site with two sign-ups per address and hour."""
    strict = msgspec.structs.replace(settings, signups_per_hour=2)
    async with AsyncTestClient(app=create_app(strict)) as test_client:
        yield test_client


async def test_sign_ups_from_one_address_are_limited(
    strict_client: AsyncTestClient[Any], db: asyncpg.Connection
) -> None:
    answers = []
    for _ in range(3):
        csrf = await _form_token(strict_client)
        answer = await strict_client.post("/registrera", data=asf_form(csrf, org_number="bad"))
        answers.append(answer.status_code)
    assert answers == [422, 422, 429]
    assert await db.fetchval("SELECT count(*) FROM organisations WHERE approved_at IS NULL") == 0
