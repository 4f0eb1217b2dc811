"""A need's plain post is answered by the request limits, before the route handler
(api/hot_writes.py); any other post reaches the handler with its body as it came, and nothing
was written for it on the way."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest
from api_testkit import API, PROBLEM_JSON, World, need_body
from litestar.testing import AsyncTestClient

from asfmatch.api import limits

Client = AsyncTestClient  # type: ignore[type-arg]


@pytest.fixture
def answered_early(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each post was answered before the handler, in order."""
    seen: list[bool] = []
    answer = limits.posted_need_body

    async def watched(*args: Any) -> bytes | None:
        body = await answer(*args)
        seen.append(body is not None)
        return body

    monkeypatch.setattr(limits, "posted_need_body", watched)
    return seen


async def test_a_plain_post_is_answered_early_with_the_need_as_stored(
    client: Client, world: World, db: asyncpg.Connection, answered_early: list[bool]
) -> None:
    response = await client.post(f"{API}/needs", json=need_body(), headers=world.buyer.headers)
    assert response.status_code == 201
    assert answered_early == [True]
    assert response.headers["content-type"] == "application/json"
    assert "ratelimit-remaining" in response.headers
    need = response.json()
    assert (await client.get(f"{API}/needs/{need['id']}")).json() == need
    assert need["buyer_id"] == world.buyer.org_id
    assert (
        await db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = 'rank_need' AND entity_id = $1", need["id"]
        )
        == 1
    )


async def test_an_admin_posting_for_a_buyer_is_answered_early(
    client: Client, world: World, answered_early: list[bool]
) -> None:
    response = await client.post(
        f"{API}/needs/", json=need_body(buyer_id=world.buyer.org_id), headers=world.admin.headers
    )
    assert response.status_code == 201
    assert answered_early == [True]
    assert response.json()["buyer_id"] == world.buyer.org_id


async def test_a_body_only_the_handlers_lenient_decoding_takes_reaches_it_whole(
    client: Client, world: World, db: asyncpg.Connection, answered_early: list[bool]
) -> None:
    before = await db.fetchval("SELECT count(*) FROM needs")
    # A number in a string: not a NeedCreate strictly, but Litestar's decoding converts it.
    raw = msgspec.json.encode(need_body(training_places="3"))
    response = await client.post(
        f"{API}/needs",
        content=raw,
        headers={**world.buyer.headers, "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert answered_early == [False]
    assert response.json()["training_places"] == 3
    assert await db.fetchval("SELECT count(*) FROM needs") == before + 1


async def test_a_post_the_handler_must_explain_is_written_once_or_not_at_all(
    client: Client, world: World, db: asyncpg.Connection, answered_early: list[bool]
) -> None:
    before = await db.fetchval("SELECT count(*) FROM needs")
    unknown_field = await client.post(
        f"{API}/needs", json=need_body(colour="blue"), headers=world.buyer.headers
    )
    bad_kommun = await client.post(
        f"{API}/needs", json=need_body(kommun="9999"), headers=world.buyer.headers
    )
    # An admin naming no buyer, and a supplier: refused by the handler, not here.
    no_buyer = await client.post(f"{API}/needs", json=need_body(), headers=world.admin.headers)
    supplier = await client.post(f"{API}/needs", json=need_body(), headers=world.supplier.headers)
    statuses = [r.status_code for r in (unknown_field, bad_kommun, no_buyer, supplier)]
    assert statuses == [422, 422, 422, 403]
    assert all(
        r.headers["content-type"].startswith(PROBLEM_JSON)
        for r in (unknown_field, bad_kommun, no_buyer, supplier)
    )
    assert "kommun" in bad_kommun.text
    assert answered_early == [False, False, False, False]
    assert await db.fetchval("SELECT count(*) FROM needs") == before


async def test_a_post_without_a_key_is_refused_before_its_body_is_read(
    client: Client, answered_early: list[bool]
) -> None:
    response = await client.post(f"{API}/needs", json=need_body())
    assert response.status_code == 401
    assert answered_early == []
