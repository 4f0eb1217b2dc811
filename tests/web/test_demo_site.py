"""`asfmatch demo` as a presenter meets it: a port of their choosing in every link, the same
keys after a restart, a read-only presenter link, and a stop that open live streams cannot
hold up."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from web_testkit import free_port, key_for, running_demo

from asfmatch.storage.db import connect

pytestmark = pytest.mark.slow


async def test_demo_reuses_its_keys_and_links_follow_the_port(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    async with running_demo(database_url, redis_url, tmp_path, port) as (first, _):
        assert f"http://127.0.0.1:{port}/" in first.output
        assert f"http://127.0.0.1:{port}/logga-in/lank/" in first.presenter_link
        assert "#key=" not in first.output
    async with running_demo(database_url, redis_url, tmp_path) as (second, _):
        assert second.admin_key == first.admin_key
        assert second.presenter_link.rsplit("/", 1)[1] == first.presenter_link.rsplit("/", 1)[1]
    connection = await connect(database_url)
    try:
        keys = await connection.fetchval(
            "SELECT count(*) FROM api_keys k JOIN organisations o ON o.id = k.organisation_id "
            "WHERE o.kind = 'admin'"
        )
    finally:
        await connection.close()
    assert keys == 1


async def test_the_presenter_link_is_read_only_and_opens_on_a_need_with_matches(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with (
        running_demo(database_url, redis_url, tmp_path) as (demo, _),
        httpx.AsyncClient(base_url=demo.url, follow_redirects=True) as browser,
    ):
        page = await browser.get(demo.presenter_link)
        assert page.status_code == 200
        assert str(page.url).endswith("/presentation")
        assert "Presentatör (endast läsning)" in page.text
        for _ in range(100):
            page = await browser.get("/presentation")
            if 'data-testid="presented-need"' in page.text:
                break
            await asyncio.sleep(0.2)
        assert 'data-testid="presented-need"' in page.text
        need_id = page.text.split('hx-get="/behov/', 1)[1].split("/", 1)[0]
        listing = await browser.get(f"/behov/{need_id}/matchningar")
        assert 'data-testid="match"' in listing.text
        refused = await browser.get("/behov/nytt")
        assert refused.status_code == 403


async def test_sigterm_stops_the_demo_with_live_streams_open(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with running_demo(database_url, redis_url, tmp_path) as (demo, process):
        connection = await connect(database_url)
        try:
            supplier_id, organisation_id = await connection.fetchrow(
                "SELECT id, organisation_id FROM supplier_profiles ORDER BY id LIMIT 1"
            )
            key = await key_for(connection, organisation_id)
        finally:
            await connection.close()
        async with (
            httpx.AsyncClient(base_url=demo.url, timeout=30) as client,
            client.stream(
                "GET",
                f"/api/v1/suppliers/{supplier_id}/events",
                headers={"Authorization": f"Bearer {key}"},
            ) as stream,
            # A page's live stream (EventSource on the start page) must not hold it up either.
            client.stream("GET", "/live?amne=counts") as page_stream,
        ):
            assert stream.status_code == 200
            assert page_stream.status_code == 200
            process.send_signal(signal.SIGTERM)
            # Bounded wait: a demo that ignores SIGTERM with a stream open fails here. 10 s was
            # once exceeded on a machine at load 6 (benchmarks beside the suite).
            code = await asyncio.to_thread(process.wait, 30)
        assert code in (0, 130, -signal.SIGTERM)
