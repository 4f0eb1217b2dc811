"""The presenter's guided run: under `asfmatch demo` the read-only presenter posts the one
prepared need (once per reset), sees its matches as markers and the best ASF's notification,
and resets; outside the demo the same buttons do not exist."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from web_testkit import csrf_of

from asfmatch.api.app import create_app
from asfmatch.importing import ImportResult
from asfmatch.services.sessions import ensure_viewer_link
from asfmatch.storage.settings import Settings
from testkit import drain


async def _presenter(client: AsyncTestClient[Any], db: asyncpg.Connection) -> str:
    """Sign in through a read-only presenter link; return the session's CSRF token."""
    token = secrets.token_urlsafe(24)
    await ensure_viewer_link(db, token, "test presenter")
    landed = await client.get(f"/logga-in/lank/{token}")
    assert landed.status_code == 200
    return csrf_of((await client.get("/presentation")).text)


@pytest.fixture
async def demo_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    """The site as `asfmatch demo` runs it (demo mode on)."""
    demo = msgspec.structs.replace(settings, demo_mode=True)
    async with AsyncTestClient(app=create_app(demo)) as test_client:
        yield test_client


async def test_the_presenter_runs_the_guided_demo_once_per_reset(
    demo_client: AsyncTestClient[Any],
    db: asyncpg.Connection,
    settings: Settings,
    demo_world: ImportResult,
) -> None:
    await drain(settings)
    csrf = await _presenter(demo_client, db)
    screen = await demo_client.get("/presentation")
    assert 'data-testid="guided-run"' in screen.text
    run = await demo_client.post(
        "/presentation/guidad", data={"_csrf": csrf}, follow_redirects=False
    )
    assert run.status_code == 303
    need_id = int(run.headers["location"].rsplit("=", 1)[1])
    buyer = await db.fetchval("SELECT buyer_id FROM needs WHERE id = $1", need_id)
    assert buyer == demo_world.buyers["b-lulea"]
    again = await demo_client.post(
        "/presentation/guidad", data={"_csrf": csrf}, follow_redirects=False
    )
    assert again.headers["location"] == run.headers["location"], "posted twice before a reset"
    waiting = await demo_client.get(f"/presentation/inkorg?behov={need_id}")
    assert 'data-testid="notification"' not in waiting.text
    await drain(settings)
    shown = await demo_client.get(f"/presentation?behov={need_id}")
    assert f'data-live-topic="need:{need_id}"' in shown.text
    map_part = await demo_client.get(f"/presentation/karta?behov={need_id}")
    assert map_part.text.count('data-testid="marker"') >= 1
    inbox = await demo_client.get(f"/presentation/inkorg?behov={need_id}")
    assert 'data-testid="notification"' in inbox.text
    assert "Städning och fönsterputs av förskolor i Luleå" in inbox.text
    # Read-only: the ASF's card has no answer buttons on the projector.
    assert "/svar" not in inbox.text
    reset = await demo_client.post(
        "/presentation/aterstall", data={"_csrf": csrf}, follow_redirects=True
    )
    assert 'data-testid="presenter-reset-done"' in reset.text
    assert await db.fetchval("SELECT count(*) FROM needs WHERE id = $1", need_id) == 0


async def test_the_guided_run_needs_the_forms_token(
    demo_client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    await _presenter(demo_client, db)
    before = await db.fetchval("SELECT count(*) FROM needs")
    refused = await demo_client.post("/presentation/guidad", data={"_csrf": "forged"})
    assert refused.status_code == 403
    assert await db.fetchval("SELECT count(*) FROM needs") == before


async def test_outside_the_demo_the_presenter_stays_read_only(
    client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    csrf = await _presenter(client, db)
    screen = await client.get("/presentation")
    assert 'data-testid="guided-run"' not in screen.text
    before = await db.fetchval("SELECT count(*) FROM needs")
    for action in ("/presentation/guidad", "/presentation/aterstall"):
        refused = await client.post(action, data={"_csrf": csrf})
        assert refused.status_code == 404, action
    assert await db.fetchval("SELECT count(*) FROM needs") == before


async def test_a_visitor_cannot_run_the_guided_demo(
    demo_client: AsyncTestClient[Any], db: asyncpg.Connection, demo_world: ImportResult
) -> None:
    page = await demo_client.get("/logga-in")
    refused = await demo_client.post(
        "/presentation/guidad", data={"_csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert refused.status_code in (303, 401)
    assert await db.fetchval("SELECT count(*) FROM needs WHERE title LIKE '%(exempel)'") == 0
