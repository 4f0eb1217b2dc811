"""Fixtures of the API tests: a small populated world of buyers, suppliers and needs, and a
factory of extra app instances with their own settings (for rate limits).

For speed this folder overrides two fixtures of tests/conftest.py, keeping their contract
(an empty migrated database and clean Redis state per test):
- `database_url`: one database per worker, emptied before each test (DELETE in replica mode,
  ~40 ms) instead of CREATE DATABASE (~350 ms); falls back to a fresh copy if emptying fails
  or the migrations seed rows;
- `client`: one app per worker on that database, its Redis keys wiped before each test,
  instead of building an app per test (~100 ms)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import pytest
import redis.asyncio as aioredis
from api_testkit import API, Party, World, need_body, supplier_body
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.storage.organisations import create_api_key
from asfmatch.storage.settings import Settings

KEEP_TABLES = {"schema_migrations"}


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture(scope="session")
async def _recycled_database(
    server_urls: tuple[str, str], template_database: str
) -> AsyncIterator[str | None]:
    """One migrated database per worker, emptied before each test. None when the migrations
    seed rows, which emptying would lose."""
    admin_url, _ = server_urls
    name = f"api_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    url = _with_database(admin_url, name)
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        seeded = False
        for row in tables:
            if row["tablename"] not in KEEP_TABLES:
                table = row["tablename"]
                seeded |= bool(await connection.fetchval(f'SELECT EXISTS (SELECT FROM "{table}")'))
    finally:
        await connection.close()
    yield None if seeded else url
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


_EMPTY_FAST = """
DO $$
DECLARE
    item record;
BEGIN
    -- Tables hold a few rows: DELETE beats TRUNCATE (no new files). Replica mode skips the
    -- foreign-key and change triggers, so the order does not matter.
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = 'public' AND tablename <> ALL($KEEP$) LOOP
        EXECUTE format('DELETE FROM %I', item.tablename);
    END LOOP;
    PERFORM setval(format('%I', sequencename)::regclass, start_value, false)
    FROM pg_sequences WHERE schemaname = 'public';
END $$;
"""


async def _empty(url: str) -> bool:
    """Empty every table and restart every sequence; False if that failed (a held lock)."""
    keep = "ARRAY[" + ", ".join(f"'{table}'" for table in sorted(KEEP_TABLES)) + "]"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET lock_timeout = '3s'")
        await connection.execute(_EMPTY_FAST.replace("$KEEP$", keep))
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await connection.close()


@pytest.fixture
async def database_url(
    server_urls: tuple[str, str], template_database: str, _recycled_database: str | None
) -> AsyncIterator[str]:
    """Overrides the suite's fixture: the same empty, migrated database, but recycled."""
    if _recycled_database is not None and await _empty(_recycled_database):
        yield _recycled_database
        return
    admin_url, _ = server_urls
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    yield _with_database(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _party(keys: Any, db: asyncpg.Connection, kind: str, name: str) -> Party:
    org_id, headers = await keys.make(kind, name)
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    return Party(org_id=org_id, headers=headers, org_number=number)


class _SharedApp:
    """One app per worker for the tests on the recycled database (building a Litestar app
    costs about 0.1 s, more than the rest of a typical test)."""

    def __init__(self) -> None:
        self.client: AsyncTestClient | None = None  # type: ignore[type-arg]
        self.prefix = ""
        self.stack = AsyncExitStack()


@pytest.fixture(scope="session")
async def _shared_app(_recycled_database: str | None) -> AsyncIterator[_SharedApp]:
    shared = _SharedApp()
    yield shared
    await shared.stack.aclose()


@pytest.fixture
async def client(
    settings: Settings,
    _recycled_database: str | None,
    _shared_app: _SharedApp,
    redis_client: aioredis.Redis,
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """Overrides the suite's fixture: on the recycled database, the worker's shared app with
    its Redis keys (rate-limit counters, cached lists) wiped first; else an app of its own."""
    if settings.database_url != _recycled_database:
        async with AsyncTestClient(app=create_app(settings)) as own:
            yield own
        return
    if _shared_app.client is None:
        shared_settings = msgspec.structs.replace(
            settings, redis_prefix=f"test:api-shared:{uuid.uuid4().hex[:12]}:"
        )
        _shared_app.prefix = shared_settings.redis_prefix
        _shared_app.client = await _shared_app.stack.enter_async_context(
            AsyncTestClient(app=create_app(shared_settings))
        )
    stale = [key async for key in redis_client.scan_iter(match=_shared_app.prefix + "*")]
    if stale:
        await redis_client.delete(*stale)
    # What the app keeps in memory of those keys goes with them: leased rate-limit tokens and
    # copies of cached lists (ids start again from 1 in the emptied database).
    resources = _shared_app.client.app.state["resources"]
    resources.limiter.leases.clear()
    resources.lists.distrust()
    yield _shared_app.client


@pytest.fixture
async def world(client: AsyncTestClient, keys: Any, db: asyncpg.Connection) -> World:  # type: ignore[type-arg]
    """The populated world, built through the API where the API is what makes it."""
    admin = await _party(keys, db, "admin", "Coompanion Norrbotten")
    buyer = await _party(keys, db, "buyer", "Luleå kommun")
    other_buyer = await _party(keys, db, "buyer", "Borlänge kommun")
    supplier = await _party(keys, db, "supplier", "Matglädje ek. för.")
    other_supplier = await _party(keys, db, "supplier", "Städkooperativet")

    profile = await client.post(
        f"{API}/suppliers/", json=supplier_body(supplier.org_number), headers=supplier.headers
    )
    assert profile.status_code == 201, profile.text
    other_profile = await client.post(
        f"{API}/suppliers/",
        json=supplier_body(
            other_supplier.org_number,
            name="Städkooperativet",
            cpv_codes=["90910000"],
            service_area=["0180"],
            contact_email="stad@example.se",
        ),
        headers=other_supplier.headers,
    )
    assert other_profile.status_code == 201, other_profile.text
    need = await client.post(f"{API}/needs/", json=need_body(), headers=buyer.headers)
    assert need.status_code == 201, need.text
    draft = await client.post(
        f"{API}/needs/", json=need_body(title="Utkast", status="draft"), headers=buyer.headers
    )
    assert draft.status_code == 201, draft.text
    spare, _ = await create_api_key(db, buyer.org_id, "spare")
    return World(
        admin=admin,
        buyer=buyer,
        other_buyer=other_buyer,
        supplier=supplier,
        other_supplier=other_supplier,
        need_id=need.json()["id"],
        draft_id=draft.json()["id"],
        profile_id=profile.json()["id"],
        other_profile_id=other_profile.json()["id"],
        spare_key_id=spare.id,
    )


AppFactory = Callable[..., AbstractAsyncContextManager[AsyncTestClient]]  # type: ignore[type-arg]


@pytest.fixture
def app_client(settings: Settings) -> AppFactory:
    """`async with app_client(rate_limit_per_address=3) as c:` an app of its own on this test's
    database and Redis prefix, with some settings changed."""

    @asynccontextmanager
    async def make(**changes: Any) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
        app = create_app(msgspec.structs.replace(settings, **changes))
        async with AsyncTestClient(app=app) as test_client:
            yield test_client

    return make
