"""Live streams share one listener per process: wake-ups arrive only after the writer commits,
a key holds a bounded number of streams, and a revoked key's streams end within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import msgspec
import pytest
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    EventReader,
    Town,
    notify_settings,
    town_fixture,
)
from test_notify_stream import _serve

from asfmatch.storage.db import create_pool
from asfmatch.storage.events import wake_pages, wake_streams
from asfmatch.storage.settings import Settings
from asfmatch.storage.stream_hub import StreamHub, TooManyStreams


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[StreamHub]:
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, settings)
    started = StreamHub(settings.database_url, pool)
    await started.start()
    yield started
    await started.stop()
    await pool.close()


async def test_a_wake_up_arrives_only_when_the_writer_commits(
    hub: StreamHub, db: asyncpg.Connection
) -> None:
    assert hub.listening
    async with hub.stream(supplier_id=7, key_id=1, limit=5) as seven, hub.stream(8, 2, 5) as eight:
        transaction = db.transaction()
        await transaction.start()
        await wake_streams(db, [7])
        assert not await seven.wait(0.3)  # written, not committed: nobody is woken
        await transaction.commit()
        assert await seven.wait(5.0)
        assert not await eight.wait(0.2)  # another supplier's news wakes only its streams


async def test_a_rolled_back_write_wakes_nobody(hub: StreamHub, db: asyncpg.Connection) -> None:
    async with hub.stream(supplier_id=7, key_id=1, limit=5) as seven:
        transaction = db.transaction()
        await transaction.start()
        await wake_streams(db, [7])
        await transaction.rollback()
        assert not await seven.wait(0.5)


async def test_a_key_holds_a_bounded_number_of_streams(hub: StreamHub) -> None:
    async with hub.stream(7, 1, limit=2), hub.stream(7, 1, limit=2):
        with pytest.raises(TooManyStreams):
            async with hub.stream(7, 1, limit=2):
                pass
        async with hub.stream(7, 2, limit=2):  # another key has its own allowance
            assert hub.streams_of(1) == 2
    assert hub.streams_of(1) == 0


@pytest.fixture
async def slow_beat_api(settings: Settings) -> AsyncIterator[str]:
    """The API on loopback with a heartbeat far longer than any wait below, so nothing that
    happens here happens because of a heartbeat."""
    slow = msgspec.structs.replace(settings, sse_heartbeat_seconds=60.0, max_streams_per_key=2)
    async for base in _serve(slow):
        yield base


async def test_streams_past_the_cap_of_a_key_get_429(town: Town, slow_beat_api: str) -> None:
    url = f"{slow_beat_api}{API}/suppliers/{town.supplier.supplier_id}/events"
    headers = town.supplier.headers
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, headers=headers) as first,
        http.stream("GET", url, headers=headers) as second,
    ):
        assert (first.status_code, second.status_code) == (200, 200)
        # A stream is registered when its body starts, which can be after its 200 reached the
        # client; a third stream opened in that moment gets a 200 and ends at once. Once both
        # are registered, every further one is refused.
        async with asyncio.timeout(5):
            while (refused := await http.get(url, headers=headers)).status_code == 200:
                assert refused.content == b""  # ended at once, nothing streamed
                await asyncio.sleep(0.05)
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        # An admin's key is a different key: it may still listen.
        async with http.stream("GET", url, headers=town.admin) as other:
            assert other.status_code == 200


async def test_a_revoked_key_closes_its_stream_within_a_second(
    town: Town, slow_beat_api: str, db: asyncpg.Connection
) -> None:
    url = f"{slow_beat_api}{API}/suppliers/{town.supplier.supplier_id}/events"
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, headers=town.supplier.headers) as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith(":")  # connected
        await db.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE organisation_id = $1",
            town.supplier.org_id,
        )
        revoked_at = time.monotonic()
        # Well under the 60 s heartbeat that used to be the only check.
        async with asyncio.timeout(5):
            async for _ in lines:
                pass
        took = time.monotonic() - revoked_at
    print(f"revoked key's stream closed {took:.2f} s after the revocation")


async def test_a_page_stream_hears_only_its_topics_and_learns_which_changed(
    hub: StreamHub, db: asyncpg.Connection
) -> None:
    need = frozenset({"need:12", "counts"})
    async with (
        hub.watch(need, "session:a", limit=5) as page,
        hub.watch(frozenset({"inbox:3"}), "session:b", limit=5) as inbox,
    ):
        await wake_pages(db, ["need:12", "need:13"])
        assert await page.wait(5.0)
        assert page.take_woken() == {"need:12"}
        assert page.take_woken() == frozenset()
        assert not await inbox.wait(0.2)  # another topic's news wakes only its streams


async def test_page_streams_are_bounded_per_holder(hub: StreamHub) -> None:
    topics = frozenset({"counts"})
    async with hub.watch(topics, "public", limit=1):
        assert hub.streams_of_holder("public") == 1
        with pytest.raises(TooManyStreams):
            async with hub.watch(topics, "public", limit=1):
                pass
        async with hub.watch(topics, "session:x", limit=1):
            pass
    assert hub.streams_of_holder("public") == 0


async def test_a_thousand_changed_needs_fit_in_notify_payloads(
    hub: StreamHub, db: asyncpg.Connection
) -> None:
    async with hub.watch(frozenset({"need:999"}), "public", limit=5) as page:
        await wake_pages(db, [f"need:{n}" for n in range(1000)])
        assert await page.wait(5.0)
        assert page.take_woken() == {"need:999"}
