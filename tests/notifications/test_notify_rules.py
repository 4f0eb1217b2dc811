"""Who is told what: a need's top suppliers once each, reverse matches as digests, preferences,
and the daily cap, all written in the ranking transaction."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    Receiver,
    Town,
    add_webhook,
    make_supplier,
    notify_settings,
    post_need,
    receiver_fixture,
    town_fixture,
)

from asfmatch.storage.settings import Settings
from testkit import drain


async def _told(db: asyncpg.Connection, supplier_id: int) -> list[tuple[str, list[int]]]:
    rows = await db.fetch(
        """
        SELECT n.kind, array_agg(t.need_id ORDER BY t.need_id) AS needs
        FROM notifications n LEFT JOIN notified_needs t ON t.notification_id = n.id
        WHERE n.supplier_id = $1 GROUP BY n.id ORDER BY n.id
        """,
        supplier_id,
    )
    return [(row["kind"], [n for n in row["needs"] if n is not None]) for row in rows]


async def test_each_supplier_in_a_needs_top_list_is_told_once(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    await drain(settings)  # the co-ops' own ranking, before any need exists
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    assert await _told(db, town.supplier.supplier_id) == [("need.matched", [need])]
    assert await _told(db, town.other_supplier.supplier_id) == [("need.matched", [need])]
    # Edited and ranked again: same suppliers, nobody is told twice.
    edited = await client.patch(
        f"{API}/needs/{need}",
        json={"description": "Daglig städning och fönsterputs av tre förskolor i Luleå."},
        headers=town.buyer.headers,
    )
    assert edited.status_code == 200
    assert await drain(settings) >= 1
    assert await _told(db, town.supplier.supplier_id) == [("need.matched", [need])]
    assert await db.fetchval("SELECT count(*) FROM notifications") == 2


async def test_only_the_top_n_above_the_threshold_are_told(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    await drain(settings)
    first = await post_need(client, town.buyer.headers)
    await drain(msgspec.structs.replace(settings, notify_top_n=1))
    assert await db.fetchval("SELECT count(*) FROM notified_needs WHERE need_id = $1", first) == 1
    second = await post_need(client, town.buyer.headers, title="Städning av skolor")
    await drain(msgspec.structs.replace(settings, notify_min_score=0.99))
    assert await db.fetchval("SELECT count(*) FROM notified_needs WHERE need_id = $1", second) == 0


async def test_a_supplier_that_left_a_list_and_came_back_is_not_told_again(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    await drain(settings)
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    path = f"{API}/suppliers/{town.supplier.supplier_id}"
    for active in (False, True):
        response = await client.patch(path, json={"active": active}, headers=town.supplier.headers)
        assert response.status_code == 200
        await drain(settings)
    on_list = await db.fetchval(
        "SELECT in_need_list FROM matches WHERE need_id = $1 AND supplier_id = $2",
        need,
        town.supplier.supplier_id,
    )
    assert on_list, "back on the need's list"
    assert await _told(db, town.supplier.supplier_id) == [("need.matched", [need])]


async def test_a_new_supplier_gets_one_digest_of_the_open_needs_that_suit_it(
    client: Any, keys: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    needs = [
        await post_need(client, town.buyer.headers),
        await post_need(client, town.buyer.headers, title="Städning av skolor i Luleå"),
    ]
    closed = await post_need(client, town.buyer.headers, title="Städning av bibliotek")
    await client.post(f"{API}/needs/{closed}/close", headers=town.buyer.headers)
    await drain(settings)
    newcomer = await make_supplier(client, keys, "Nya Städarna")
    await drain(settings)
    assert await _told(db, newcomer.supplier_id) == [("needs.digest", sorted(needs))]


async def test_the_next_digest_waits_for_the_suppliers_frequency(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    # Need notifications off, so every need reaches the supplier through its digest.
    digests_only = msgspec.structs.replace(settings, notify_top_n=0)
    supplier = town.supplier.supplier_id
    first = await post_need(client, town.buyer.headers)
    await drain(digests_only)
    assert await _told(db, supplier) == [("needs.digest", [first])]
    second = await post_need(client, town.buyer.headers, title="Städning av skolor")
    await db.execute("INSERT INTO jobs (kind, entity_id) VALUES ('rank_supplier', $1)", supplier)
    await drain(digests_only)
    assert len(await _told(db, supplier)) == 1, "daily: the second digest must wait"
    wait = await db.fetchval(
        """
        SELECT extract(epoch FROM run_at - now()) FROM jobs
        WHERE kind = 'notification_digest' AND entity_id = $1 AND state = 'queued'
        """,
        supplier,
    )
    assert 86_000 < wait <= 86_400
    # A day passes.
    await db.execute(
        "UPDATE notification_state SET last_digest_at = last_digest_at - interval '1 day'"
    )
    await db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'notification_digest'")
    await drain(digests_only)
    assert await _told(db, supplier) == [("needs.digest", [first]), ("needs.digest", [second])]


async def test_a_supplier_that_wants_no_digests_gets_none(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    response = await client.put(
        f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences",
        json={"digest_frequency": "never"},
        headers=town.supplier.headers,
    )
    assert response.status_code == 200
    await post_need(client, town.buyer.headers)
    await drain(msgspec.structs.replace(settings, notify_top_n=0))
    assert await _told(db, town.supplier.supplier_id) == []
    assert len(await _told(db, town.other_supplier.supplier_id)) == 1


@pytest.mark.parametrize(
    "preferences",
    [{"lan": ["01", "03"]}, {"cpv_prefixes": ["5552"]}, {"min_score": 0.95}],
    ids=["other län", "other CPV area", "score too low"],
)
async def test_preferences_keep_unwanted_needs_away(
    client: Any,
    town: Town,
    settings: Settings,
    db: asyncpg.Connection,
    preferences: dict[str, Any],
) -> None:
    response = await client.put(
        f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences",
        json=preferences,
        headers=town.supplier.headers,
    )
    assert response.status_code == 200, response.text
    await drain(settings)
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    assert await _told(db, town.supplier.supplier_id) == []
    assert await _told(db, town.other_supplier.supplier_id) == [("need.matched", [need])]


async def test_preferences_let_wanted_needs_through(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    response = await client.put(
        f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences",
        json={"lan": ["25"], "cpv_prefixes": ["9091"], "min_score": 0.2},
        headers=town.supplier.headers,
    )
    assert response.status_code == 200
    await drain(settings)
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    assert await _told(db, town.supplier.supplier_id) == [("need.matched", [need])]


async def test_the_daily_cap_stops_pushes_but_keeps_the_inbox_complete(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection, receiver: Receiver
) -> None:
    capped = msgspec.structs.replace(settings, notify_daily_cap=2)
    await add_webhook(client, town.supplier, receiver)
    await drain(capped)
    for number in range(3):
        await post_need(client, town.buyer.headers, title=f"Lokalvård av förskola {number}")
        await drain(capped)  # a fresh worker each time: the count lives in PostgreSQL
    await receiver.wait_for(2)
    assert len(receiver.received) == 2, "the third need is over the cap: no webhook"
    inbox = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/notifications", headers=town.supplier.headers
    )
    items = inbox.json()["items"]
    assert [item["capped"] for item in items] == [True, False, False]
    assert "webhook" not in items[0]["channels"] and "email" in items[0]["channels"]
    pushed = await db.fetchval(
        "SELECT pushed FROM notification_quota WHERE supplier_id = $1", town.supplier.supplier_id
    )
    assert pushed == 2


async def test_notifications_commit_or_roll_back_with_the_match_results(
    client: Any, town: Town, settings: Settings, db: asyncpg.Connection
) -> None:
    await drain(settings)
    await db.execute(
        """
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'notifications are down'; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON notifications
            FOR EACH ROW EXECUTE FUNCTION refuse();
        """
    )
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    assert await db.fetchval("SELECT count(*) FROM matches WHERE need_id = $1", need) == 0
    assert await db.fetchval("SELECT state FROM jobs WHERE kind = 'rank_need'") == "queued"
    await db.execute("DROP TRIGGER refuse ON notifications")
    await db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'rank_need'")
    await drain(settings)
    assert await db.fetchval("SELECT count(*) FROM matches WHERE need_id = $1", need) == 2
    assert await db.fetchval("SELECT count(*) FROM notifications") == 2
