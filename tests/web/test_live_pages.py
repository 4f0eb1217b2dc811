"""The pages' live stream over real HTTP (uvicorn on loopback): the session cookie opens it, it
names the topic that changed when a need's matches arrive or a notification reaches an inbox,
and it refuses topics the visitor may not watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import msgspec
import pytest
import uvicorn
from test_buyer_pages import need_form
from web_testkit import csrf_of, free_port, key_for

from asfmatch.api.app import create_app
from asfmatch.importing import ImportResult
from asfmatch.storage.settings import Settings
from testkit import drain


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[str]:
    """The site served by uvicorn on loopback (a quick heartbeat); yields its base URL."""
    port = free_port()
    quick = msgspec.structs.replace(settings, sse_heartbeat_seconds=0.5)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(quick),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@asynccontextmanager
async def _signed_in(base: str, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        form = await client.get("/logga-in")
        response = await client.post(
            "/logga-in", data={"_csrf": csrf_of(form.text), "api_key": api_key, "next": "/"}
        )
        assert response.status_code == 303, response.text
        yield client


async def _events(stream: httpx.Response, wanted: str, within: float = 15.0) -> list[str]:
    """Event names read until `wanted` arrives (fails after `within` seconds)."""
    seen: list[str] = []
    lines = stream.aiter_lines()
    async with asyncio.timeout(within):
        while wanted not in seen:
            line = await anext(lines)
            if line.startswith("event:"):
                seen.append(line.partition(":")[2].strip())
    return seen


async def test_a_buyers_stream_names_the_need_when_its_matches_arrive(
    site: str, db: asyncpg.Connection, settings: Settings, demo_world: ImportResult
) -> None:
    async with _signed_in(site, await key_for(db, demo_world.buyers["b-lulea"])) as buyer:
        form = await buyer.get("/behov/nytt")
        posted = await buyer.post(
            "/behov/nytt", data=need_form(csrf_of(form.text)), follow_redirects=False
        )
        need_id = int(posted.headers["location"].rsplit("/", 1)[1])
        page = await buyer.get(f"/behov/{need_id}")
        assert f'data-live-topic="need:{need_id}"' in page.text
        async with buyer.stream("GET", f"/live?amne=need:{need_id}") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            await drain(settings)
            assert f"need:{need_id}" in await _events(stream, f"need:{need_id}")
        listing = await buyer.get(f"/behov/{need_id}/matchningar")
        assert 'data-testid="match"' in listing.text


async def test_an_asfs_inbox_stream_names_its_inbox_when_a_notification_arrives(
    site: str, db: asyncpg.Connection, settings: Settings, demo_world: ImportResult
) -> None:
    # Rank the demo first, so the only notifications left to write are the new need's.
    await drain(settings)
    buyer_key = await key_for(db, demo_world.buyers["b-lulea"])
    supplier_id, organisation_id = await db.fetchrow(
        """
        SELECT s.id, s.organisation_id FROM supplier_profiles s
        JOIN organisations o ON o.id = s.organisation_id
        WHERE o.name LIKE 'Städkooperativet Björkfjärden%'
        """
    )
    asf_key = await key_for(db, organisation_id)
    async with _signed_in(site, buyer_key) as buyer, _signed_in(site, asf_key) as asf:
        inbox = await asf.get("/inkorg")
        assert f'data-live-topic="inbox:{supplier_id}"' in inbox.text
        async with asf.stream("GET", f"/live?amne=inbox:{supplier_id}") as stream:
            assert stream.status_code == 200
            form = await buyer.get("/behov/nytt")
            await buyer.post("/behov/nytt", data=need_form(csrf_of(form.text)))
            await drain(settings)
            assert f"inbox:{supplier_id}" in await _events(stream, f"inbox:{supplier_id}")
        news = await asf.get("/inkorg/nya?efter=0")
        assert "Lokalvård av skolor i Luleå" in news.text


async def test_the_stream_refuses_topics_the_visitor_may_not_watch(
    site: str, db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    need_id = demo_world.needs[next(iter(demo_world.needs))]
    other_supplier = await db.fetchval("SELECT min(id) FROM supplier_profiles")
    async with httpx.AsyncClient(base_url=site, timeout=10) as visitor:
        for topic in (f"need:{need_id}", f"inbox:{other_supplier}", "everything", "need:x"):
            refused = await visitor.get(f"/live?amne={topic}")
            assert refused.status_code == 403, topic
        assert (await visitor.get("/live")).status_code == 400
        async with visitor.stream("GET", "/live?amne=counts") as stream:
            assert stream.status_code == 200
    # A buyer may watch its own needs only.
    buyer_id = await db.fetchval("SELECT buyer_id FROM needs WHERE id = $1", need_id)
    other_buyer = next(b for b in demo_world.buyers.values() if b != buyer_id)
    async with _signed_in(site, await key_for(db, other_buyer)) as stranger:
        refused = await stranger.get(f"/live?amne=need:{need_id}")
        assert refused.status_code == 403
