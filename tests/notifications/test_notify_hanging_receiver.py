"""A webhook receiver that never answers holds one webhook slot, not the worker: rankings go
on while its delivery waits."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    Receiver,
    Town,
    add_webhook,
    notify_settings,
    post_need,
    receiver_fixture,
    town_fixture,
)

from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from testkit import drain


async def _state(db: asyncpg.Connection, kind: str, entity_id: int) -> str | None:
    found: str | None = await db.fetchval(
        "SELECT state FROM jobs WHERE kind = $1 AND entity_id = $2 ORDER BY id DESC LIMIT 1",
        kind,
        entity_id,
    )
    return found


async def test_a_hanging_webhook_receiver_does_not_stop_rankings(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    await add_webhook(client, town.supplier, receiver)
    receiver.hang = True
    await drain(settings)
    # Longer than the test waits: the delivery is still hanging when the ranking is checked.
    patient = msgspec.structs.replace(settings, webhook_timeout_seconds=120)
    assert settings.database_url is not None
    worker = Worker(patient, settings.database_url)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await post_need(client, town.buyer.headers)
        await receiver.wait_for(1, within=20)  # the delivery is now hanging
        second = await post_need(client, town.buyer.headers, title="Fönsterputs av skolor")
        async with asyncio.timeout(20):
            while await _state(db, "rank_need", second) != "done":  # noqa: ASYNC110 - polling the database, no event to wait on
                await asyncio.sleep(0.05)
        hanging = await db.fetchval(
            "SELECT count(*) FROM jobs WHERE kind = 'webhook_delivery' AND state = 'running'"
        )
    finally:
        stop.set()
        await receiver.stop()  # lets the hanging delivery fail, so the worker can stop
        await asyncio.wait_for(running, 30)
    assert hanging >= 1, "the delivery should still be waiting on the receiver"
