"""Cached lists answered without PostgreSQL (storage/list_versions.py): a hit asks PostgreSQL
nothing, yet every writer (the API, the worker's rankings and deadline closing, a job opening
or failing) changes what the next reader is served."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import msgspec
import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient
from test_ranking_jobs import CATERING
from worker_testkit import CHECK, CLEANING_NEED, CLEANING_PROFILE, NewSupplier

from asfmatch.storage.cache import (
    CachedList,
    MatchCache,
    NeedsListCache,
    RedisGate,
    create_redis,
    parse_list_entry,
)
from asfmatch.storage.db import connect, create_pool
from asfmatch.storage.list_versions import ListVersions
from asfmatch.storage.organisations import update_organisation
from asfmatch.storage.settings import Settings
from asfmatch.storage.stream_hub import StreamHub
from asfmatch.workers.deadlines import close_expired_needs
from testkit import Keys, drain


@contextmanager
def no_postgres() -> Iterator[None]:
    """Fail any pooled connection taken inside: every API read and write takes one."""
    original = asyncpg.pool.Pool.acquire

    def refuse(self: asyncpg.Pool, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("PostgreSQL was asked")

    asyncpg.pool.Pool.acquire = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncpg.pool.Pool.acquire = original  # type: ignore[method-assign]


async def _settle() -> None:
    """Let the app's LISTEN connection hear what was just committed and fence it."""
    await asyncio.sleep(0.2)


async def _warm(client: AsyncTestClient, path: str, headers: dict[str, str]) -> Any:  # type: ignore[type-arg]
    """Read until the process trusts the cached entry (the first read fills it, the next one
    stamps it after the process's trust began); the answer."""
    body = None
    for _ in range(3):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
    return body


@pytest.fixture
async def world(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keys: Keys,
    new_supplier: NewSupplier,
) -> dict[str, Any]:
    cleaner, cleaner_headers = await new_supplier("Städkooperativet Trean", CLEANING_PROFILE)
    buyer_org, buyer = await keys.make("buyer", "Luleå kommun")
    need = await client.post("/api/v1/needs", json=CLEANING_NEED, headers=buyer)
    assert need.status_code == 201
    return {
        "need": need.json()["id"],
        "buyer": buyer,
        "buyer_org": buyer_org,
        "cleaner": cleaner,
        "cleaner_headers": cleaner_headers,
    }


async def test_a_cached_match_list_is_answered_without_postgres(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
    admin: dict[str, str],
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    warm = await _warm(client, path, world["buyer"])
    assert warm["status"] == "ready" and warm["matches"]
    await _warm(client, path, admin)
    _, stranger = await keys.make("buyer", "Annan kommun")
    await client.get("/api/v1/me", headers=stranger)  # its key is now in memory
    with no_postgres():
        assert (await client.get(path, headers=world["buyer"])).json() == warm
        assert (await client.get(path, headers=admin)).json() == warm
        # Who may read it is checked against the owner cached with the list.
        assert (await client.get(path, headers=stranger)).status_code == 403
        assert (await client.get(path)).status_code == 401


async def test_a_pending_list_is_cached_and_the_workers_ranking_replaces_it(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
) -> None:
    path = f"/api/v1/needs/{world['need']}/matches"
    pending = await _warm(client, path, world["buyer"])
    assert pending == {"need_id": world["need"], "status": "pending", "matches": []}
    with no_postgres():
        assert (await client.get(path, headers=world["buyer"])).json() == pending
    await drain(settings)
    await _settle()
    ready = (await client.get(path, headers=world["buyer"])).json()
    assert ready["status"] == "ready"
    assert [m["supplier_id"] for m in ready["matches"]] == [world["cleaner"]]


async def test_every_kind_of_write_moves_the_cached_list(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    supplier_path = f"/api/v1/suppliers/{world['cleaner']}/matches"
    await _warm(client, path, world["buyer"])
    listed = await _warm(client, supplier_path, world["cleaner_headers"])
    assert [m["need_id"] for m in listed["matches"]] == [world["need"]]
    # An edit through the API: the need is ranked again, the supplier's list loses it.
    moved = await client.patch(
        f"/api/v1/needs/{world['need']}",
        json={"title": "Lokalvård, Gammelstad"},
        headers=world["buyer"],
    )
    assert moved.status_code == 200
    await _settle()
    assert (await client.get(path, headers=world["buyer"])).json()["status"] == "pending"
    assert (await client.get(supplier_path, headers=world["cleaner_headers"])).json()[
        "matches"
    ] == []
    await drain(settings)
    await _settle()
    await _warm(client, path, world["buyer"])
    # A job failing for good outside any API request (as the worker records it).
    job = await keys.db.fetchval(
        "INSERT INTO jobs (kind, entity_id, state) VALUES ('rank_need', $1, 'running') RETURNING id",
        world["need"],
    )
    await _settle()
    assert (await client.get(path, headers=world["buyer"])).json()["status"] == "pending"
    await keys.db.execute("UPDATE jobs SET state = 'failed' WHERE id = $1", job)
    await _settle()
    assert (await client.get(path, headers=world["buyer"])).json()["status"] == "failed"
    # The owner changing hands: the old buyer loses the list at once.
    other_org, other = await keys.make("buyer", "Bodens kommun")
    await keys.db.execute("UPDATE needs SET buyer_id = $1 WHERE id = $2", other_org, world["need"])
    await _settle()
    assert (await client.get(path, headers=world["buyer"])).status_code == 403
    assert (await client.get(path, headers=other)).status_code == 200
    # Deleted: nobody is served its old list.
    await keys.db.execute("DELETE FROM needs WHERE id = $1", world["need"])
    await _settle()
    assert (await client.get(path, headers=other)).status_code == 404


async def test_the_deadline_closing_in_the_worker_reaches_the_cached_lists(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
) -> None:
    await drain(settings)
    supplier_path = f"/api/v1/suppliers/{world['cleaner']}/matches"
    listed = await _warm(client, supplier_path, world["cleaner_headers"])
    assert [m["need_id"] for m in listed["matches"]] == [world["need"]]
    page = await _warm(client, "/api/v1/needs?status=open", {})
    assert [n["id"] for n in page["items"]] == [world["need"]]
    await keys.db.execute(
        "UPDATE needs SET closes_at = now() - interval '1 hour' WHERE id = $1", world["need"]
    )
    assert settings.database_url is not None
    worker_connection = await connect(settings.database_url)
    try:
        assert await close_expired_needs(worker_connection) == [world["need"]]
    finally:
        await worker_connection.close()
    await _settle()
    after = (await client.get(supplier_path, headers=world["cleaner_headers"])).json()
    assert after["matches"] == []
    assert (await client.get("/api/v1/needs?status=open")).json()["items"] == []


async def test_the_public_needs_list_is_answered_without_postgres_until_a_need_is_written(
    client: AsyncTestClient,  # type: ignore[type-arg]
    world: dict[str, Any],
    keys: Keys,
) -> None:
    first = await _warm(client, "/api/v1/needs?page_size=20", {})
    assert [n["id"] for n in first["items"]] == [world["need"]]
    with no_postgres():
        assert (await client.get("/api/v1/needs?page_size=20")).json() == first
    posted = await client.post(
        "/api/v1/needs", json={**CLEANING_NEED, "title": "Fönsterputs"}, headers=world["buyer"]
    )
    assert posted.status_code == 201
    await _settle()
    after = (await client.get("/api/v1/needs?page_size=20")).json()
    assert {n["id"] for n in after["items"]} == {world["need"], posted.json()["id"]}
    # A buyer's new name shows in the list too.
    await client.get("/api/v1/needs?page_size=20")
    await keys.db.execute(
        "UPDATE organisations SET name = 'Luleå kommun, lokalförsörjning' WHERE id = $1",
        world["buyer_org"],
    )
    await _settle()
    names = {
        n["buyer_name"] for n in (await client.get("/api/v1/needs?page_size=20")).json()["items"]
    }
    assert names == {"Luleå kommun, lokalförsörjning"}


async def test_a_supplier_renamed_through_the_api_is_named_anew_on_the_buyers_list(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    before = await _warm(client, path, world["buyer"])
    assert [m["supplier_name"] for m in before["matches"]] == ["Städkooperativet Trean"]
    renamed = await client.patch(
        f"/api/v1/suppliers/{world['cleaner']}",
        json={"name": "Städkooperativet Norr"},
        headers=world["cleaner_headers"],
    )
    assert renamed.status_code == 200, renamed.text
    await _settle()
    # The name is part of the ranking text: the list is ranked again under the new name.
    assert (await client.get(path, headers=world["buyer"])).json()["status"] == "pending"
    await drain(settings)
    await _settle()
    after = (await client.get(path, headers=world["buyer"])).json()
    assert [m["supplier_name"] for m in after["matches"]] == ["Städkooperativet Norr"]


async def test_a_new_organisation_name_reaches_every_cached_list_showing_it_at_once(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    keys: Keys,
    admin: dict[str, str],
) -> None:
    checked = await client.post(
        f"/api/v1/suppliers/{world['cleaner']}/verifications", json=CHECK, headers=admin
    )
    assert checked.status_code == 201, checked.text
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    warm = await _warm(client, path, world["buyer"])
    with no_postgres():  # served from the cache from now on
        assert (await client.get(path, headers=world["buyer"])).json() == warm
    shown = [(m["supplier_name"], m["verification"]["verified_by"]) for m in warm["matches"]]
    assert shown == [("Städkooperativet Trean", "Coompanion Test")]
    supplier_org = (await client.get(f"/api/v1/suppliers/{world['cleaner']}")).json()[
        "organisation_id"
    ]
    support_body = (await client.get("/api/v1/me", headers=admin)).json()["organisation"]["id"]
    # Renamed by a writer that ranks nothing again (only the name changes on the list).
    for organisation_id, name in ((supplier_org, "Trean i Luleå"), (support_body, "Coompanion")):
        async with keys.db.transaction():
            await update_organisation(keys.db, organisation_id, {"name": name})
        await _settle()
    after = (await client.get(path, headers=world["buyer"])).json()
    assert [(m["supplier_name"], m["verification"]["verified_by"]) for m in after["matches"]] == [
        ("Trean i Luleå", "Coompanion")
    ]
    assert await keys.db.fetchval("SELECT count(*) FROM jobs WHERE state = 'queued'") == 0


class Cached(msgspec.Struct):
    """A process's cache side, in the test's own event loop."""

    gate: RedisGate
    cache: MatchCache
    versions: ListVersions
    connections: list[int]


@pytest.fixture
async def cached(settings: Settings) -> AsyncIterator[Cached]:
    assert settings.database_url is not None and settings.redis_url is not None
    pool = await create_pool(settings.database_url, settings)
    hub = StreamHub(settings.database_url, pool)
    connections: list[int] = []
    made: list[ListVersions] = []

    def new_connection() -> None:
        # As api/app.py wires it: a new Redis connection ends trust.
        connections.append(1)
        for versions in made:
            versions.distrust()

    client = create_redis(settings.redis_url, settings, new_connection)
    gate = RedisGate(client, settings)
    cache = MatchCache(gate)
    versions = ListVersions(cache, NeedsListCache(gate), hub)
    made.append(versions)
    await hub.start()
    versions.start()
    yield Cached(gate=gate, cache=cache, versions=versions, connections=connections)
    await versions.stop()
    await hub.stop()
    await client.aclose()
    await pool.close()


async def test_a_fill_older_than_a_fence_is_never_stored(
    cached: Cached, redis_client: aioredis.Redis
) -> None:
    cache, versions = cached.cache, cached.versions
    _, now = await cache.fetch("need", 12)
    assert now is not None
    key = cache.key("need", 12)
    # A reader read version 3 while a writer committed 4 and the process fenced it.
    versions.heard("need:12:4")
    await versions.fence_now()
    await cache.put("need", 12, 3, b"{}", stamp=now, owner_organisation_id=1, status="open")
    assert await redis_client.get(key) == b"4 0 - -\n"
    # A fill from a read begun longer ago than the fill window is refused even when current.
    old = now - 10_000_000
    await cache.put("need", 12, 4, b"{}", stamp=old, owner_organisation_id=1, status="open")
    assert await redis_client.get(key) == b"4 0 - -\n"
    await cache.put("need", 12, 4, b"{}", stamp=now, owner_organisation_id=1, status="open")
    assert await redis_client.get(key) == f"4 {now} 1 open\n{{}}".encode()
    # A late fence of the same version leaves the current body alone.
    versions.heard("need:12:4")
    await versions.fence_now()
    assert await redis_client.get(key) == f"4 {now} 1 open\n{{}}".encode()


async def test_nothing_read_before_a_failed_fence_or_a_new_redis_connection_is_trusted(
    cached: Cached,
) -> None:
    cache, versions = cached.cache, cached.versions
    generation = versions.generation
    _, stamp = await cache.fetch("need", 1)
    assert stamp is not None and cached.connections, "the first call opened a connection"
    assert versions.trusted_since is None, "a new connection ends trust"
    versions.observe(stamp, generation)
    assert versions.trusted_since is None, "a fetch that overlapped it cannot restore it"
    generation = versions.generation
    _, stamp = await cache.fetch("need", 1)
    assert stamp is not None
    versions.observe(stamp, generation)
    assert versions.trusts("need", 1, 7, stamp)
    # Redis unreachable while a version is heard: it cannot be fenced.
    cached.gate._down_until = float("inf")
    versions.heard("need:1:8")
    await versions.fence_now()
    cached.gate._down_until = 0.0
    assert not versions.trusts("need", 2, 7, stamp)
    generation = versions.generation
    _, later = await cache.fetch("need", 1)
    assert later is not None
    versions.observe(later, generation)
    assert versions.trusts("need", 2, 7, later) and not versions.trusts("need", 2, 7, stamp)
    # An entry older than a version heard is never served, whatever its stamp.
    assert not versions.trusts("need", 1, 7, later) and versions.trusts("need", 1, 8, later)
    # A new connection to Redis (it may have restarted and lost fences) ends trust too.
    await cached.gate.client.connection_pool.disconnect()
    await cache.fetch("need", 1)
    assert versions.trusted_since is None


async def test_a_matched_supplier_reads_its_own_row_of_a_cached_list_without_postgres(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
    new_supplier: NewSupplier,
) -> None:
    await new_supplier("Kaffekoppen", CATERING)
    _, elsewhere = await new_supplier(
        "Städ i Malmö", {**CLEANING_PROFILE, "service_area": ["1280"]}
    )
    # Posted after both suppliers, so the caterer is ranked on it too.
    posted = await client.post("/api/v1/needs", json=CLEANING_NEED, headers=world["buyer"])
    await drain(settings)
    path = f"/api/v1/needs/{posted.json()['id']}/matches"
    whole = await _warm(client, path, world["buyer"])
    assert len(whole["matches"]) > 1  # the other rows are there to be left out
    own = await _warm(client, path, world["cleaner_headers"])
    assert [row["supplier_id"] for row in own["matches"]] == [world["cleaner"]]
    assert own["matches"][0] in whole["matches"]
    assert (await client.get(path, headers=elsewhere)).status_code == 403
    with no_postgres():
        assert (await client.get(path, headers=world["cleaner_headers"])).json() == own
        # Not matched: refused from what the key's lookup and the cached list say.
        assert (await client.get(path, headers=elsewhere)).status_code == 403


async def test_a_current_entry_read_before_trust_began_is_stamped_anew_and_served_again(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    warm = await _warm(client, path, world["buyer"])
    # As after a restart of this process or a new Redis connection: the entry is current but
    # older than the process's trust.
    client.app.state["resources"].lists.distrust()
    for _ in range(2):  # the first fetch restores trust, the next read re-stamps the entry
        assert (await client.get(path, headers=world["buyer"])).json() == warm
    with no_postgres():
        assert (await client.get(path, headers=world["buyer"])).json() == warm


async def test_a_hot_list_is_answered_from_memory_with_redis_and_postgres_out_of_reach(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    world: dict[str, Any],
) -> None:
    await drain(settings)
    path = f"/api/v1/needs/{world['need']}/matches"
    warm = await _warm(client, path, world["buyer"])
    page = await _warm(client, "/api/v1/needs?page_size=20", {})
    gate = client.app.state["resources"].redis
    gate._down_until = float("inf")
    try:
        with no_postgres():
            answered = await client.get(path, headers=world["buyer"])
            listed = await client.get("/api/v1/needs?page_size=20")
    finally:
        gate._down_until = 0.0
    assert answered.json() == warm and listed.json() == page
    for response in (answered, listed):
        assert response.headers["content-type"] == "application/json"
        assert int(response.headers["ratelimit-remaining"]) < int(
            response.headers["ratelimit-limit"]
        )


async def _trusted_entry(cached: Cached, need_id: int, version: int) -> tuple[CachedList, int]:
    """Store a current entry of the need's list and trust the process from before it."""
    cache, versions = cached.cache, cached.versions
    await cache.fetch("need", need_id)  # opens the connection, which ends trust
    generation = versions.generation
    _, stamp = await cache.fetch("need", need_id)
    assert stamp is not None
    versions.observe(stamp, generation)
    await cache.put(
        "need", need_id, version, b"{}", stamp=stamp, owner_organisation_id=1, status="open"
    )
    entry, fetched = await cache.fetch("need", need_id)
    found = parse_list_entry(entry)
    assert found is not None and fetched is not None
    assert versions.trusts("need", need_id, version, stamp)
    return found, fetched


async def test_a_copy_in_memory_is_forgotten_when_its_list_is_written(cached: Cached) -> None:
    versions = cached.versions
    entry, fetched = await _trusted_entry(cached, 21, 4)
    versions.fetched_list("need", 21, entry, fetched)
    assert versions.remembered_list("need", 21) == (entry, fetched)
    versions.heard("need:21:5")
    # Not only refused while the version heard is remembered (a minute): gone.
    versions._heard.clear()
    assert versions.remembered_list("need", 21) is None


async def test_a_copy_superseded_before_it_is_kept_is_never_kept(cached: Cached) -> None:
    versions = cached.versions
    entry, fetched = await _trusted_entry(cached, 22, 4)
    # A writer committed version 5 while the request that fetched version 4 was on its way.
    versions.heard("need:22:5")
    versions.fetched_list("need", 22, entry, fetched)
    versions._heard.clear()
    assert versions.remembered_list("need", 22) is None


async def test_every_copy_in_memory_is_forgotten_when_trust_is_lost(cached: Cached) -> None:
    versions = cached.versions
    entry, fetched = await _trusted_entry(cached, 23, 4)
    versions.fetched_list("need", 23, entry, fetched)
    page = b"7 " + str(fetched).encode() + b"\n{}"
    versions.fetched_page(b"page_size=20", b"7", page, fetched)
    assert versions.remembered_page(b"page_size=20") == (b"7", page, fetched)
    versions.distrust()
    assert versions.remembered_list("need", 23) is None
    assert versions.remembered_page(b"page_size=20") is None


async def test_needs_list_pages_in_memory_are_forgotten_when_a_need_is_written(
    cached: Cached,
) -> None:
    versions = cached.versions
    _, fetched = await _trusted_entry(cached, 24, 1)
    page = b"7 " + str(fetched).encode() + b"\n{}"
    versions.fetched_page(b"", b"7", page, fetched)
    assert versions.remembered_page(b"") is not None
    versions.heard("needs")
    assert versions.remembered_page(b"") is None
