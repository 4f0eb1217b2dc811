"""POST /api/v1/needs writes concurrent posts together (storage/group_commit.py): each caller
still gets its own need, and a post that is refused is refused alone, with its own reason."""

from __future__ import annotations

import asyncio

import asyncpg
from api_testkit import API, PROBLEM_JSON, World, need_body
from litestar.testing import AsyncTestClient

from asfmatch.services.approval import WAITING
from asfmatch.storage.signups import mark_pending
from testkit import Keys


async def test_concurrent_posts_each_get_their_own_need(
    client: AsyncTestClient,  # type: ignore[type-arg]
    world: World,
    db: asyncpg.Connection,
) -> None:
    posts = [
        (f"Behov {n}", world.buyer if n % 2 else world.admin, world.buyer.org_id) for n in range(30)
    ]
    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/needs/",
                json=need_body(title=title, buyer_id=buyer_id if by is world.admin else None),
                headers=by.headers,
            )
            for title, by, buyer_id in posts
        )
    )
    assert [r.status_code for r in responses] == [201] * 30
    created = [r.json() for r in responses]
    assert [need["title"] for need in created] == [title for title, _, _ in posts]
    assert len({need["id"] for need in created}) == 30
    assert {need["buyer_name"] for need in created} == {"Luleå kommun"}
    for need in created[:3]:
        read = await client.get(f"{API}/needs/{need['id']}")
        assert read.json() == need
    ranked = await db.fetchval(
        "SELECT count(*) FROM jobs WHERE kind = 'rank_need' AND entity_id = ANY($1::bigint[])",
        [need["id"] for need in created],
    )
    assert ranked == 30


async def test_a_refused_post_among_concurrent_ones_gets_its_own_reason(
    client: AsyncTestClient,  # type: ignore[type-arg]
    world: World,
    keys: Keys,
    db: asyncpg.Connection,
) -> None:
    pending, pending_headers = await keys.make("buyer", "Ny kommun")
    await mark_pending(db, pending)
    good = need_body(title="Godkänd")
    responses = await asyncio.gather(
        client.post(f"{API}/needs/", json=good, headers=world.buyer.headers),
        client.post(f"{API}/needs/", json=need_body(), headers=pending_headers),
        client.post(
            f"{API}/needs/",
            json=need_body(buyer_id=world.supplier.org_id),
            headers=world.admin.headers,
        ),
        client.post(f"{API}/needs/", json=good, headers=world.buyer.headers),
    )
    assert [r.status_code for r in responses] == [201, 422, 422, 201]
    assert responses[1].headers["content-type"].startswith(PROBLEM_JSON)
    assert WAITING in responses[1].text
    assert "is not a buyer" in responses[2].text
    # The pending buyer may still save a draft.
    draft = await client.post(
        f"{API}/needs/", json=need_body(status="draft"), headers=pending_headers
    )
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
