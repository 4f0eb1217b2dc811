"""The live stream over real HTTP (uvicorn on loopback): events carry notification ids, a
reconnect with Last-Event-ID replays what was missed, heartbeats keep it open, Redis is optional."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import uvicorn
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    EventReader,
    Town,
    free_port,
    notify_settings,
    post_need,
    town_fixture,
)

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings
from testkit import drain


async def _serve(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
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


@pytest.fixture
async def live_api(settings: Settings) -> AsyncIterator[str]:
    """The API served by uvicorn on loopback; yields its base URL."""
    async for base in _serve(settings):
        yield base


def _events_url(base: str, supplier_id: int) -> str:
    return f"{base}{API}/suppliers/{supplier_id}/events"


async def test_new_notifications_arrive_on_the_stream_with_their_ids(
    client: Any, town: Town, settings: Settings, live_api: str, db: asyncpg.Connection
) -> None:
    await drain(settings)
    url = _events_url(live_api, town.supplier.supplier_id)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, headers=town.supplier.headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(stream)
        need = await post_need(client, town.buyer.headers)
        await drain(settings)
        [event] = await reader.next_events(1, within=5)
    notification_id = await db.fetchval(
        "SELECT id FROM notifications WHERE supplier_id = $1", town.supplier.supplier_id
    )
    assert event["id"] == str(notification_id)
    assert event["event"] == "need.matched"
    data = json.loads(event["data"])
    assert data["needs"][0]["need_id"] == need
    assert data["needs"][0]["title"] == "Lokalvård av förskolor"
    assert "connected" in reader.comments


async def test_a_reconnect_with_last_event_id_replays_what_was_missed(
    client: Any, town: Town, settings: Settings, live_api: str
) -> None:
    await drain(settings)
    url = _events_url(live_api, town.supplier.supplier_id)
    async with httpx.AsyncClient(timeout=10) as http:
        async with http.stream("GET", url, headers=town.supplier.headers) as stream:
            reader = EventReader(stream)
            await post_need(client, town.buyer.headers, title="Städning av förskola 1")
            await drain(settings)
            [first] = await reader.next_events(1, within=5)
        # Offline: two more needs come and go.
        for number in (2, 3):
            await post_need(client, town.buyer.headers, title=f"Städning av förskola {number}")
            await drain(settings)
        headers = {**town.supplier.headers, "Last-Event-ID": first["id"]}
        async with http.stream("GET", url, headers=headers) as stream:
            missed = await EventReader(stream).next_events(2, within=5)
        titles = [json.loads(event["data"])["needs"][0]["title"] for event in missed]
        assert titles == ["Städning av förskola 2", "Städning av förskola 3"]
        ids = [int(event["id"]) for event in missed]
        assert int(first["id"]) < ids[0] < ids[1]
        # Without Last-Event-ID a stream starts now: nothing old, just heartbeats.
        async with http.stream("GET", url, headers=town.supplier.headers) as stream:
            fresh = EventReader(stream)
            with pytest.raises(TimeoutError):
                await fresh.next_events(1, within=1.2)
        assert "keep-alive" in fresh.comments


async def test_the_stream_works_with_redis_away(
    client: Any, town: Town, settings: Settings
) -> None:
    without_redis = msgspec.structs.replace(settings, redis_url="unix:///nonexistent/redis.sock")
    await drain(settings)
    async for base in _serve(without_redis):
        url = _events_url(base, town.supplier.supplier_id)
        async with (
            httpx.AsyncClient(timeout=10) as http,
            http.stream("GET", url, headers=town.supplier.headers) as stream,
        ):
            assert stream.status_code == 200
            reader = EventReader(stream)
            await post_need(client, town.buyer.headers)
            await drain(settings)
            [event] = await reader.next_events(1, within=5)
            assert event["event"] == "need.matched"


async def test_a_revoked_key_ends_the_stream(
    town: Town, settings: Settings, live_api: str, db: asyncpg.Connection
) -> None:
    url = _events_url(live_api, town.supplier.supplier_id)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, headers=town.supplier.headers) as stream,
    ):
        await db.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE organisation_id = $1",
            town.supplier.org_id,
        )
        async with asyncio.timeout(5):
            async for _ in stream.aiter_lines():
                pass  # ends when the server closes the stream


async def test_only_the_supplier_and_admins_may_listen(town: Town, live_api: str) -> None:
    url = _events_url(live_api, town.supplier.supplier_id)
    callers = [
        ({}, 401),
        ({"Authorization": "Bearer asfm_nope"}, 401),
        (town.buyer.headers, 403),
        (town.other_supplier.headers, 403),
        (town.admin, 200),
    ]
    async with httpx.AsyncClient(timeout=10) as http:
        for headers, status in callers:
            async with http.stream("GET", url, headers=headers) as stream:
                assert stream.status_code == status, headers
                if status != 200:
                    await stream.aread()
                    assert stream.headers["content-type"] == "application/problem+json"
        unknown = await http.get(_events_url(live_api, 999_999), headers=town.admin)
        assert unknown.status_code == 404


async def test_a_malformed_last_event_id_is_named_in_a_422(town: Town, live_api: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for value in ("abc", "-1", "1e5", "9" * 30):
            headers = {**town.supplier.headers, "Last-Event-ID": value}
            response = await http.get(
                _events_url(live_api, town.supplier.supplier_id), headers=headers
            )
            assert response.status_code == 422, value
            assert response.json()["errors"][0]["field"] == "Last-Event-ID"
