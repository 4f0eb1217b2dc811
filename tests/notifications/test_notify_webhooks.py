"""Webhooks against a real loopback receiver that verifies signatures with `standardwebhooks`:
retries, receiver down then up, 410, Retry-After, timeouts, disabling, rotation, SSRF."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from notify_testkit import (  # noqa: F401 - fixtures, found by pytest under their names
    API,
    Receiver,
    Town,
    add_webhook,
    notify_settings,
    post_need,
    receiver_fixture,
    town_fixture,
)

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker
from asfmatch.workers.webhooks import RETRY_SCHEDULE
from testkit import drain


async def _queued_delay(db: asyncpg.Connection) -> float | None:
    """Seconds from the last delivery attempt until the queued retry falls due, or None if none
    is queued (measured from the attempt, not from now, so a slow machine does not shrink it)."""
    found = await db.fetchval(
        """
        SELECT extract(epoch FROM run_at - (SELECT max(attempted_at) FROM webhook_attempts))
        FROM jobs WHERE kind = 'webhook_delivery' AND state = 'queued'
        """
    )
    return None if found is None else float(found)


async def _due_now(db: asyncpg.Connection) -> None:
    """The controllable clock: the queued retry falls due at once."""
    await db.execute("UPDATE jobs SET run_at = now() WHERE state = 'queued'")


async def _endpoint(client: Any, town: Town, endpoint_id: int) -> dict[str, Any]:
    response = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/webhooks/{endpoint_id}",
        headers=town.supplier.headers,
    )
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


async def _log(client: Any, town: Town, endpoint_id: int) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/webhooks/{endpoint_id}/deliveries",
        headers=town.supplier.headers,
    )
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_matching_need_reaches_the_webhook_signed_and_thin(
    client: Any, town: Town, settings: Settings, receiver: Receiver
) -> None:
    endpoint_id, secret = await add_webhook(client, town.supplier, receiver)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    await drain(settings)
    need = await post_need(client, town.buyer.headers)
    await drain(settings)
    [delivery] = await receiver.wait_for(1)
    assert delivery.verified_by == [secret]
    assert delivery.webhook_id.startswith("msg_")
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 60
    payload = delivery.payload
    assert payload["type"] == "need.matched"
    data = payload["data"]
    assert data["need_ids"] == [need] and data["supplier_id"] == town.supplier.supplier_id
    assert data["url"].endswith(
        f"/api/v1/suppliers/{town.supplier.supplier_id}/notifications/{data['notification_id']}"
    )
    assert set(data) == {"supplier_id", "notification_id", "need_ids", "url"}
    assert b"@" not in delivery.body, "no contact data in a webhook"
    [logged] = await _log(client, town, endpoint_id)
    assert logged["outcome"] == "delivered" and logged["status_code"] == 200
    assert logged["webhook_id"] == delivery.webhook_id and logged["attempt"] == 1


async def test_a_posted_need_reaches_a_registered_webhook_through_the_running_worker(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    """The worker running as in production, woken by the NOTIFY at commit: its poll is set
    far beyond the test's patience, so only the NOTIFY can bring the webhook. How fast it
    arrives is a figure of bench/bench_notifications.py, not an assertion here."""
    await add_webhook(client, town.supplier, receiver)
    assert settings.database_url is not None
    worker = Worker(
        msgspec.structs.replace(settings, worker_poll_seconds=3600.0), settings.database_url
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        # The worker is up, has ranked the co-ops (its index is warm) and sleeps.
        async with asyncio.timeout(10):
            while await db.fetchval("SELECT count(*) FROM jobs WHERE state <> 'done'"):  # noqa: ASYNC110 - polling the database, no event to wait on
                await asyncio.sleep(0.05)
        await post_need(client, town.buyer.headers)
        [delivery] = await receiver.wait_for(1, within=20)
    finally:
        stop.set()
        await running
    assert delivery.verified_by, "correctly signed"


async def test_failed_attempts_follow_the_schedule_under_one_webhook_id(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    receiver.default = (500, {})
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    for attempt in range(1, len(RETRY_SCHEDULE)):
        delay = await _queued_delay(db)
        expected = RETRY_SCHEDULE[attempt]
        assert delay is not None and expected * 0.89 <= delay <= expected * 1.1, (attempt, delay)
        await _due_now(db)
        await drain(settings)
    assert await _queued_delay(db) is None, "ten attempts, then it gives up"
    assert len(receiver.received) == len(RETRY_SCHEDULE) == 10
    assert len({d.webhook_id for d in receiver.received}) == 1
    assert all(d.verified_by for d in receiver.received)
    log = await _log(client, town, endpoint_id)
    assert [entry["attempt"] for entry in log] == list(range(10, 0, -1))
    assert {entry["outcome"] for entry in log} == {"failed"}
    assert log[0]["next_attempt_at"] is None and log[1]["next_attempt_at"] is not None
    state = await db.fetchval("SELECT state FROM webhook_messages")
    assert state == "failed"


async def test_a_receiver_that_was_down_gets_the_event_when_it_is_back(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    await drain(settings)
    await receiver.stop()
    await post_need(client, town.buyer.headers)
    await drain(settings)
    [failed] = await _log(client, town, endpoint_id)
    assert failed["outcome"] == "failed" and failed["status_code"] is None and failed["error"]
    assert (await _endpoint(client, town, endpoint_id))["failing_since"] is not None
    await receiver.start()  # the same port
    await _due_now(db)
    await drain(settings)
    [delivery] = await receiver.wait_for(1)
    assert delivery.verified_by
    log = await _log(client, town, endpoint_id)
    assert [entry["outcome"] for entry in log] == ["delivered", "failed"]
    assert log[0]["webhook_id"] == log[1]["webhook_id"] == delivery.webhook_id
    assert (await _endpoint(client, town, endpoint_id))["failing_since"] is None


async def test_410_disables_the_endpoint_and_tells_its_owner(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    receiver.default = (410, {})
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    endpoint = await _endpoint(client, town, endpoint_id)
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    assert await _queued_delay(db) is None, "no retry after 410"
    inbox = await client.get(
        f"{API}/suppliers/{town.supplier.supplier_id}/notifications", headers=town.supplier.headers
    )
    newest = inbox.json()["items"][0]
    assert newest["type"] == "webhook.disabled"
    assert newest["detail"]["endpoint_id"] == endpoint_id
    # Disabled endpoints get nothing more, until their owner enables them again.
    await post_need(client, town.buyer.headers, title="Städning av skolor")
    await drain(settings)
    assert len(receiver.received) == 1
    enabled = await client.patch(
        f"{API}/suppliers/{town.supplier.supplier_id}/webhooks/{endpoint_id}",
        json={"enabled": True},
        headers=town.supplier.headers,
    )
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120.0),
        (503, "http-date", 600.0),
        (500, "120", 5.0),  # Retry-After only counts on 429 and 503
        (302, None, 5.0),  # a redirect is not followed: it is a failure
    ],
)
async def test_retry_after_is_honoured_on_429_and_503(
    client: Any,
    town: Town,
    settings: Settings,
    receiver: Receiver,
    db: asyncpg.Connection,
    status: int,
    retry_after: str | None,
    expected: float,
) -> None:
    await add_webhook(client, town.supplier, receiver)
    headers = {"Location": "http://127.0.0.1:9/elsewhere"} if status == 302 else {}
    if retry_after == "http-date":
        headers["Retry-After"] = format_datetime(
            datetime.now(UTC) + timedelta(seconds=600), usegmt=True
        )
    elif retry_after is not None:
        headers["Retry-After"] = retry_after
    receiver.responses.append((status, headers))
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    delay = await _queued_delay(db)
    assert delay is not None and expected * 0.85 <= delay <= expected * 1.1, delay
    assert await db.fetchval("SELECT status_code FROM webhook_attempts") == status


async def test_a_receiver_that_does_not_answer_times_out(
    client: Any, town: Town, settings: Settings, receiver: Receiver
) -> None:
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    receiver.hang = True
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(msgspec.structs.replace(settings, webhook_timeout_seconds=0.5))
    [logged] = await _log(client, town, endpoint_id)
    assert logged["outcome"] == "failed" and "no response within 0.5 s" in logged["error"]


async def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_told(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    receiver.default = (500, {})
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    assert (await _endpoint(client, town, endpoint_id))["enabled"] is True
    await db.execute(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute'"
    )
    await _due_now(db)
    await drain(settings)
    endpoint = await _endpoint(client, town, endpoint_id)
    assert endpoint["enabled"] is False and "5 days" in endpoint["disabled_reason"]
    assert await db.fetchval("SELECT state FROM webhook_messages") == "failed"
    kinds = await db.fetch(
        "SELECT kind FROM notifications WHERE supplier_id = $1 ORDER BY id",
        town.supplier.supplier_id,
    )
    assert [row["kind"] for row in kinds] == ["need.matched", "webhook.disabled"]


async def test_a_rotated_secret_signs_next_to_the_old_one_during_the_overlap(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    endpoint_id, old = await add_webhook(client, town.supplier, receiver)
    base = f"{API}/suppliers/{town.supplier.supplier_id}/webhooks/{endpoint_id}"
    rotated = await client.post(f"{base}/rotate-secret", headers=town.supplier.headers)
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    receiver.secrets.append(new)
    sent = await client.post(f"{base}/test", headers=town.supplier.headers)
    assert sent.status_code == 202
    await drain(settings)
    [during] = await receiver.wait_for(1)
    assert during.webhook_id == sent.json()["webhook_id"]
    assert during.payload["type"] == "webhook.test"
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert sorted(during.verified_by) == sorted([old, new])
    # The overlap ends: only the new secret signs.
    await db.execute("UPDATE webhook_secrets SET expires_at = now() WHERE secret = $1", old)
    await client.post(f"{base}/test", headers=town.supplier.headers)
    await drain(settings)
    after = (await receiver.wait_for(2))[1]
    assert after.verified_by == [new]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.20/hook",
        "http://172.16.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fc00::1]/hook",
        # IPv6 spellings of internal IPv4 addresses and special-purpose ranges (issue 11).
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[::127.0.0.1]/hook",
        "http://[::169.254.169.254]/hook",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[fec0::1]/hook",
    ],
)
async def test_urls_that_resolve_to_internal_addresses_are_refused(
    settings: Settings, town: Town, url: str
) -> None:
    strict = msgspec.structs.replace(settings, webhook_allow_private=False)
    async with AsyncTestClient(app=create_app(strict)) as client:
        response = await client.post(
            f"{API}/suppliers/{town.supplier.supplier_id}/webhooks",
            json={"url": url},
            headers=town.supplier.headers,
        )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "url"


async def test_a_public_address_is_accepted_and_a_later_internal_one_refused_at_delivery(
    client: Any, settings: Settings, town: Town, receiver: Receiver, db: asyncpg.Connection
) -> None:
    strict = msgspec.structs.replace(settings, webhook_allow_private=False)
    async with AsyncTestClient(app=create_app(strict)) as strict_client:
        public = await strict_client.post(
            f"{API}/suppliers/{town.supplier.supplier_id}/webhooks",
            json={"url": "https://93.184.215.14/hook"},
            headers=town.supplier.headers,
        )
    assert public.status_code == 201, public.text
    await client.delete(
        f"{API}/suppliers/{town.supplier.supplier_id}/webhooks/{public.json()['id']}",
        headers=town.supplier.headers,
    )
    # Registered while loopback was allowed; the worker no longer allows it (a DNS change
    # after registration looks the same): the attempt is refused before any connection.
    endpoint_id, _ = await add_webhook(client, town.supplier, receiver)
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(strict)
    assert receiver.received == []
    [logged] = await _log(client, town, endpoint_id)
    assert logged["outcome"] == "failed" and "loopback" in logged["error"]


async def test_channels_without_webhook_send_none(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    await add_webhook(client, town.supplier, receiver)
    response = await client.put(
        f"{API}/suppliers/{town.supplier.supplier_id}/notification-preferences",
        json={"channels": ["inbox", "sse"]},
        headers=town.supplier.headers,
    )
    assert response.status_code == 200
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    assert (
        await db.fetchval(
            "SELECT count(*) FROM notifications WHERE supplier_id = $1", town.supplier.supplier_id
        )
        == 1
    )
    assert await db.fetchval("SELECT count(*) FROM webhook_messages") == 0


async def test_an_attempt_already_recorded_is_not_sent_again_when_its_job_is_retaken(
    client: Any, town: Town, settings: Settings, receiver: Receiver, db: asyncpg.Connection
) -> None:
    """A worker that logged its attempt but died before marking the job done: the job is taken
    over, and the next worker sees the attempt in the log and sends nothing."""
    await add_webhook(client, town.supplier, receiver)
    receiver.default = (500, {})
    await drain(settings)
    await post_need(client, town.buyer.headers)
    await drain(settings)
    assert len(receiver.received) == 1
    await db.execute(
        """
        UPDATE jobs SET state = 'running', finished_at = NULL, locked_by = 'dead:1:x',
                        locked_until = now() - interval '1 second'
        WHERE kind = 'webhook_delivery' AND state = 'done'
        """
    )
    await drain(settings)
    assert len(receiver.received) == 1
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 1
    states = await db.fetch("SELECT state, attempts FROM jobs WHERE kind = 'webhook_delivery'")
    assert sorted((row["state"], row["attempts"]) for row in states) == [
        ("done", 2),
        ("queued", 0),
    ], "taken over and finished; the retry it queued still waits for its time"
