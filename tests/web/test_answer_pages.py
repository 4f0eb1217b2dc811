"""An ASF declines a need in its inbox with a reason from the list (errors next to the
fields, with and without htmx), and the buyer's need page counts the declines by reason."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from test_supplier_pages import _posted_and_told
from web_testkit import csrf_of, key_for, sign_in

from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings


async def test_a_decline_takes_a_reason_from_the_list_and_the_buyer_counts_it(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    need_id, organisation_id, buyer_key = await _posted_and_told(client, db, settings, demo_world)
    await sign_in(client, await key_for(db, organisation_id))
    inbox = await client.get("/inkorg")
    assert '<option value="too_large">För stort för oss</option>' in inbox.text
    notification_id = int(inbox.text.split('action="/inkorg/', 1)[1].split("/", 1)[0])
    key = f"{notification_id}-{need_id}"
    form = {"_csrf": csrf_of(inbox.text), "need_id": str(need_id), "interest": "not_interested"}
    action = f"/inkorg/{notification_id}/svar"
    # No reason: the whole page again, 422, the error under the select.
    missing = await client.post(action, data={**form, "reason_code": "", "reason": ""})
    assert missing.status_code == 422
    assert f'id="reason_code-{key}-error"' in missing.text
    assert "Välj varför ni inte är intresserade." in missing.text
    # "Other" without a text, through htmx: the card comes back with the error by the text.
    other = await client.post(
        action, data={**form, "reason_code": "other", "reason": ""}, headers={"HX-Request": "1"}
    )
    assert other.status_code == 200
    assert f'id="reason-{key}-error"' in other.text
    assert '<option value="other" selected>' in other.text
    declined = await client.post(
        action, data={**form, "reason_code": "too_large", "reason": ""}, follow_redirects=False
    )
    assert declined.status_code == 303
    again = await client.get("/inkorg")
    assert "Ni svarade: inte intresserade: För stort för oss" in again.text
    client.cookies.clear()
    await sign_in(client, buyer_key)
    matches = await client.get(f"/behov/{need_id}/matchningar")
    assert 'data-testid="declines-by-reason"' in matches.text
    assert "För stort för oss: 1" in matches.text
    assert 'data-testid="lots-hint"' not in matches.text


async def test_a_reason_picked_before_clicking_interested_is_ignored(
    client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    need_id, organisation_id, _ = await _posted_and_told(client, db, settings, demo_world)
    await sign_in(client, await key_for(db, organisation_id))
    inbox = await client.get("/inkorg")
    notification_id = int(inbox.text.split('action="/inkorg/', 1)[1].split("/", 1)[0])
    answered = await client.post(
        f"/inkorg/{notification_id}/svar",
        data={
            "_csrf": csrf_of(inbox.text),
            "need_id": str(need_id),
            "interest": "interested",
            "reason_code": "too_far",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert "Ni svarade: intresserade" in (await client.get("/inkorg")).text
