"""Follow-up questions 7 and 30 days after a need's deadline, on the real job queue and real
PostgreSQL, with the clock moved by time-machine: who is asked, that no round is asked twice,
that an outcome (or a later round) makes a round skip, and that two workers ask only once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import time_machine
from outcome_testkit import API, Party, answer_interested, make_party, post_need

from asfmatch.storage.db import create_pool
from asfmatch.storage.outcomes import FOLLOW_UP_JOB
from asfmatch.storage.settings import Settings
from asfmatch.workers.notifications import Notifier
from asfmatch.workers.outcomes import FollowUps
from testkit import drain


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    assert settings.database_url is not None
    found = await create_pool(settings.database_url, settings)
    yield found
    await found.close()


@pytest.fixture
async def world(client: Any, keys: Any, settings: Settings) -> dict[str, Any]:
    """A buyer, an ASF that answered interested, one that was told but did not answer, and
    the need (closing tomorrow)."""
    buyer = await make_party(client, keys, "buyer", "Luleå kommun")
    keen = await make_party(client, keys, "supplier", "Städkooperativet Norr")
    silent = await make_party(client, keys, "supplier", "Rent & Fint ek. för.")
    await drain(settings)
    need = await post_need(client, buyer)
    await drain(settings)
    await answer_interested(client, keen, need["id"])
    closes_at = datetime.fromisoformat(need["closes_at"])
    return {"buyer": buyer, "keen": keen, "silent": silent, "need": need["id"], "closes": closes_at}


async def _queued(db: asyncpg.Connection) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'", FOLLOW_UP_JOB
        )
    )


async def _questions(client: Any, party: Party) -> list[dict[str, Any]]:
    listed = await client.get(f"{API}/outcome-questions", headers=party.headers)
    assert listed.status_code == 200, listed.text
    result: list[dict[str, Any]] = listed.json()
    return result


async def _outcome_notifications(client: Any, party: Party) -> list[dict[str, Any]]:
    inbox = await client.get(
        f"{API}/suppliers/{party.supplier_id}/notifications", headers=party.headers
    )
    return [item for item in inbox.json()["items"] if item["type"] == "outcome.question"]


async def _rounds(db: asyncpg.Connection, need_id: int) -> dict[int, bool]:
    rows = await db.fetch(
        "SELECT round_days, asked FROM outcome_rounds WHERE need_id = $1", need_id
    )
    return {row["round_days"]: row["asked"] for row in rows}


async def test_day_7_asks_the_buyer_and_the_interested_asf_once(
    client: Any,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    settings: Settings,
    world: dict[str, Any],
) -> None:
    follow_ups = FollowUps(Notifier(settings))
    with time_machine.travel(world["closes"] + timedelta(days=6, hours=23), tick=True):
        await follow_ups.schedule(pool)
        assert await _queued(db) == 0, "not due before day 7"
    with time_machine.travel(world["closes"] + timedelta(days=7, minutes=1), tick=True):
        await follow_ups.schedule(pool)
        assert await _queued(db) == 1
        await follow_ups.schedule(pool)
        assert await _queued(db) == 1, "one queued job per need, however often the scan runs"
        assert await drain(settings) >= 1
    assert await _rounds(db, world["need"]) == {7: True}
    asked = await _outcome_notifications(client, world["keen"])
    assert [(n["detail"]["need_id"], n["detail"]["round_days"]) for n in asked] == [
        (world["need"], 7)
    ]
    assert await _outcome_notifications(client, world["silent"]) == [], "only the interested"
    assert [(q["need_id"], q["round_days"]) for q in await _questions(client, world["buyer"])] == [
        (world["need"], 7)
    ]
    with time_machine.travel(world["closes"] + timedelta(days=8), tick=True):
        await follow_ups.schedule(pool)
        assert await _queued(db) == 0, "a round is asked once"
        async with pool.acquire() as connection, connection.transaction():
            assert await follow_ups.ask(connection, world["need"], datetime.now(UTC)) is None
    assert len(await _outcome_notifications(client, world["keen"])) == 1
    # The ASF answers from its inbox; its question is then no longer open.
    answered = await client.post(
        f"{API}/suppliers/{world['keen'].supplier_id}/outcome-answers",
        json={"need_id": world["need"], "won": False},
        headers=world["keen"].headers,
    )
    assert answered.status_code == 200, answered.text
    assert await _questions(client, world["keen"]) == []
    # Day 30 asks again (one more question, a new round).
    with time_machine.travel(world["closes"] + timedelta(days=30, minutes=1), tick=True):
        await follow_ups.schedule(pool)
        await drain(settings)
    assert await _rounds(db, world["need"]) == {7: True, 30: True}
    assert [
        n["detail"]["round_days"] for n in await _outcome_notifications(client, world["keen"])
    ] == [30, 7]


async def test_a_recorded_outcome_stops_the_questions(
    client: Any,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    settings: Settings,
    world: dict[str, Any],
) -> None:
    follow_ups = FollowUps(Notifier(settings))
    recorded = await client.put(
        f"{API}/needs/{world['need']}/outcome",
        json={"result": "not_awarded"},
        headers=world["buyer"].headers,
    )
    assert recorded.status_code == 200, recorded.text
    with time_machine.travel(world["closes"] + timedelta(days=31), tick=True):
        await follow_ups.schedule(pool)
        assert await _queued(db) == 0, "the scan skips needs with an outcome"
        async with pool.acquire() as connection, connection.transaction():
            assert await follow_ups.ask(connection, world["need"], datetime.now(UTC)) is None
    assert await _rounds(db, world["need"]) == {7: False, 30: False}
    assert await _outcome_notifications(client, world["keen"]) == []
    assert await _questions(client, world["buyer"]) == []


async def test_a_worker_back_after_a_month_asks_only_the_latest_round(
    client: Any,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    settings: Settings,
    world: dict[str, Any],
) -> None:
    follow_ups = FollowUps(Notifier(settings))
    with time_machine.travel(world["closes"] + timedelta(days=40), tick=True):
        await follow_ups.schedule(pool)
        await drain(settings)
    assert await _rounds(db, world["need"]) == {7: False, 30: True}
    assert [
        n["detail"]["round_days"] for n in await _outcome_notifications(client, world["keen"])
    ] == [30]
    with time_machine.travel(world["closes"] + timedelta(days=100), tick=True):
        await follow_ups.schedule(pool)
        assert await _queued(db) == 0, "past the window nothing more is asked"


async def test_two_workers_asking_at_once_ask_once(
    client: Any,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    settings: Settings,
    world: dict[str, Any],
) -> None:
    follow_ups = FollowUps(Notifier(settings))

    async def ask() -> int | None:
        async with pool.acquire() as connection, connection.transaction():
            return await follow_ups.ask(connection, world["need"], datetime.now(UTC))

    with time_machine.travel(world["closes"] + timedelta(days=7, minutes=5), tick=True):
        results = await asyncio.gather(ask(), ask())
    assert sorted(results, key=lambda r: r or 0) == [None, 7]
    assert len(await _outcome_notifications(client, world["keen"])) == 1
    assert (
        await db.fetchval(
            "SELECT count(*) FROM outcome_questions WHERE need_id = $1", world["need"]
        )
        == 2
    ), "the buyer and the interested ASF, once each"
