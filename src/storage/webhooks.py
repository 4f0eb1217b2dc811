"""Webhook endpoints, their signing secrets, the messages queued for them and the delivery log,
per the Standard Webhooks specification (https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from standardwebhooks.webhooks import Webhook

from asfmatch.storage import jobs
from asfmatch.storage.db import Connection
from asfmatch.storage.paging import Page, Query
from asfmatch.storage.settings import Settings

DELIVERY_JOB = "webhook_delivery"
MAX_ENDPOINTS_PER_SUPPLIER = 10
# The specification asks for 24 to 64 random bytes.
SECRET_BYTES = 32

Outcome = Literal["delivered", "failed", "gone"]

_encoder = msgspec.json.Encoder()


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier's webhook endpoint as its owner sees it (never the secret)."""

    id: int
    supplier_id: int
    url: str
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one delivery attempt needs: the message, where it goes, how to sign it."""

    message_id: int
    webhook_id: str
    endpoint_id: int
    supplier_id: int
    url: str
    enabled: bool
    state: str
    attempts: int
    event_type: str
    body: str
    secrets: list[str]


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an endpoint's delivery log."""

    id: int
    webhook_id: str
    event_type: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    outcome: Outcome
    error: str
    response_body: str
    duration_ms: int
    next_attempt_at: datetime | None


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_webhook_id() -> str:
    """A message id, sent as `webhook-id` on every attempt of the message."""
    return f"msg_{secrets.token_hex(12)}"


def signature_header(
    signing_secrets: Sequence[str], webhook_id: str, timestamp: int, body: str
) -> str:
    """`webhook-signature`: one `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per valid secret,
    space separated, so receivers holding either secret accept it during a rotation."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(
        Webhook(secret).sign(msg_id=webhook_id, timestamp=moment, data=body)
        for secret in signing_secrets
    )


def notification_url(settings: Settings, supplier_id: int, notification_id: int) -> str:
    """Where a notification can be read (and answered) through the API."""
    base = settings.public_url.rstrip("/")
    return f"{base}/api/v1/suppliers/{supplier_id}/notifications/{notification_id}"


def event_body(
    settings: Settings,
    *,
    kind: str,
    supplier_id: int,
    notification_id: int | None,
    need_ids: Sequence[int],
    moment: datetime,
    extra: dict[str, Any] | None = None,
) -> str:
    """A thin webhook payload: ids and a URL to fetch the rest with the supplier's key; never
    contact details."""
    data: dict[str, Any] = {"supplier_id": supplier_id, **(extra or {})}
    if notification_id is not None:
        data["notification_id"] = notification_id
        data["need_ids"] = list(need_ids)
        data["url"] = notification_url(settings, supplier_id, notification_id)
    return _encoder.encode({"type": kind, "timestamp": moment, "data": data}).decode()


_ENDPOINT_COLUMNS = (
    "id, supplier_id, url, description, enabled, disabled_reason, disabled_at, failing_since, "
    "last_success_at, created_at, updated_at"
)


async def create_endpoint(
    connection: Connection, supplier_id: int, url: str, description: str
) -> tuple[Endpoint, str]:
    """Register an endpoint with a new secret; returns it and the secret."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO webhook_endpoints (supplier_id, url, description) VALUES ($1, $2, $3)
        RETURNING {_ENDPOINT_COLUMNS}
        """,
        supplier_id,
        url,
        description,
    )
    assert row is not None
    secret = new_secret()
    await connection.execute(
        "INSERT INTO webhook_secrets (endpoint_id, secret) VALUES ($1, $2)", row["id"], secret
    )
    return Endpoint(**dict(row)), secret


async def count_endpoints(connection: Connection, supplier_id: int) -> int:
    """How many endpoints a supplier has registered."""
    found = await connection.fetchval(
        "SELECT count(*) FROM webhook_endpoints WHERE supplier_id = $1", supplier_id
    )
    return int(found)


async def list_endpoints(connection: Connection, supplier_id: int) -> list[Endpoint]:
    """A supplier's endpoints, oldest first."""
    rows = await connection.fetch(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE supplier_id = $1 ORDER BY id",
        supplier_id,
    )
    return [Endpoint(**dict(row)) for row in rows]


async def get_endpoint(connection: Connection, endpoint_id: int) -> Endpoint | None:
    """The endpoint with this id, or None."""
    row = await connection.fetchrow(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1", endpoint_id
    )
    return None if row is None else Endpoint(**dict(row))


async def update_endpoint(
    connection: Connection, endpoint_id: int, changes: dict[str, Any]
) -> Endpoint:
    """Change url, description or enabled. Enabling clears the failure record."""
    allowed = [column for column in ("url", "description", "enabled") if column in changes]
    assignments = [f"{column} = ${i}" for i, column in enumerate(allowed, start=2)]
    if changes.get("enabled") is True:
        assignments += ["disabled_reason = NULL", "disabled_at = NULL", "failing_since = NULL"]
    row = await connection.fetchrow(
        f"""
        UPDATE webhook_endpoints SET {", ".join([*assignments, "updated_at = now()"])}
        WHERE id = $1 RETURNING {_ENDPOINT_COLUMNS}
        """,
        endpoint_id,
        *(changes[column] for column in allowed),
    )
    assert row is not None
    return Endpoint(**dict(row))


async def delete_endpoint(connection: Connection, endpoint_id: int) -> None:
    """Remove an endpoint with its secrets, messages and log (queued jobs then find nothing)."""
    await connection.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint_id)


async def rotate_secret(
    connection: Connection, endpoint_id: int, overlap_seconds: float
) -> tuple[str, datetime]:
    """Make a new secret; the current ones keep signing for `overlap_seconds`. Returns the new
    secret and when the old ones stop."""
    until: datetime = await connection.fetchval(
        "SELECT now() + make_interval(secs => $1)", overlap_seconds
    )
    await connection.execute(
        """
        UPDATE webhook_secrets SET expires_at = least(coalesce(expires_at, $2), $2)
        WHERE endpoint_id = $1
        """,
        endpoint_id,
        until,
    )
    secret = new_secret()
    await connection.execute(
        "INSERT INTO webhook_secrets (endpoint_id, secret) VALUES ($1, $2)", endpoint_id, secret
    )
    return secret, until


async def enabled_endpoints(
    connection: Connection, supplier_ids: Sequence[int]
) -> dict[int, list[int]]:
    """Enabled endpoint ids of each of these suppliers."""
    rows = await connection.fetch(
        """
        SELECT supplier_id, id FROM webhook_endpoints
        WHERE supplier_id = ANY($1::bigint[]) AND enabled ORDER BY id
        """,
        list(supplier_ids),
    )
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row["supplier_id"], []).append(row["id"])
    return found


async def queue_message(
    connection: Connection,
    endpoint_id: int,
    notification_id: int | None,
    event_type: str,
    body: str,
) -> str:
    """Store a message with its final body and queue its first delivery attempt, in the
    caller's transaction. Returns its webhook-id."""
    webhook_id = new_webhook_id()
    message_id: int = await connection.fetchval(
        """
        INSERT INTO webhook_messages (webhook_id, endpoint_id, notification_id, event_type, body)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        webhook_id,
        endpoint_id,
        notification_id,
        event_type,
        body,
    )
    await jobs.enqueue(connection, DELIVERY_JOB, message_id, {"attempt": 1})
    return webhook_id


async def delivery_target(connection: Connection, message_id: int) -> DeliveryTarget | None:
    """The message with its endpoint and currently valid secrets (newest first), or None if the
    endpoint was deleted."""
    row = await connection.fetchrow(
        """
        SELECT m.id AS message_id, m.webhook_id, m.endpoint_id, e.supplier_id, e.url, e.enabled,
               m.state, m.attempts, m.event_type, m.body,
               array(SELECT s.secret FROM webhook_secrets s
                     WHERE s.endpoint_id = e.id AND (s.expires_at IS NULL OR s.expires_at > now())
                     ORDER BY s.id DESC) AS secrets
        FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id
        WHERE m.id = $1
        """,
        message_id,
    )
    return None if row is None else DeliveryTarget(**dict(row))


async def record_attempt(
    connection: Connection,
    target: DeliveryTarget,
    attempt: int,
    *,
    outcome: Outcome,
    status_code: int | None,
    error: str,
    response_body: str,
    duration_ms: int,
    retry_in: float | None,
) -> None:
    """Log one attempt and move the message on: delivered, failed for good, or queued again in
    `retry_in` seconds (a new job, carrying the same webhook-id)."""
    if outcome == "delivered":
        state = "delivered"
    elif retry_in is None:
        state = "failed"
    else:
        state = "pending"
    next_at: datetime | None = None
    if state == "pending":
        assert retry_in is not None
        next_at = await connection.fetchval("SELECT now() + make_interval(secs => $1)", retry_in)
        await jobs.enqueue(
            connection,
            DELIVERY_JOB,
            target.message_id,
            {"attempt": attempt + 1},
            delay_seconds=retry_in,
        )
    await connection.execute(
        """
        INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, status_code, outcome,
                                      error, response_body, duration_ms, next_attempt_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        target.message_id,
        target.endpoint_id,
        attempt,
        status_code,
        outcome,
        error[:500],
        response_body[:500],
        duration_ms,
        next_at,
    )
    await connection.execute(
        """
        UPDATE webhook_messages SET attempts = $2, state = $3, next_attempt_at = $4,
               finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
        WHERE id = $1
        """,
        target.message_id,
        attempt,
        state,
        next_at,
    )


async def endpoint_succeeded(connection: Connection, endpoint_id: int) -> None:
    """A 2xx: the endpoint is healthy again."""
    await connection.execute(
        """
        UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = now()
        WHERE id = $1
        """,
        endpoint_id,
    )


async def endpoint_failed(
    connection: Connection, endpoint_id: int, disable_after_seconds: float
) -> bool:
    """Note a failure; True when the endpoint has now been failing for `disable_after_seconds`."""
    failing_too_long = await connection.fetchval(
        """
        UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
        WHERE id = $1
        RETURNING failing_since <= now() - make_interval(secs => $2)
        """,
        endpoint_id,
        disable_after_seconds,
    )
    return bool(failing_too_long)


async def disable_endpoint(connection: Connection, endpoint_id: int, reason: str) -> bool:
    """Stop delivering to an endpoint and give up its pending messages; False if it was already
    disabled."""
    status: str = await connection.execute(
        """
        UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now(),
               updated_at = now()
        WHERE id = $1 AND enabled
        """,
        endpoint_id,
        reason[:500],
    )
    if not status.endswith(" 1"):
        return False
    await connection.execute(
        """
        UPDATE webhook_messages SET state = 'failed', finished_at = now(), next_attempt_at = NULL
        WHERE endpoint_id = $1 AND state = 'pending'
        """,
        endpoint_id,
    )
    return True


async def list_attempts(
    connection: Connection, endpoint_id: int, *, page: int, page_size: int
) -> Page[Attempt]:
    """An endpoint's delivery log, newest first, with the bounded count of storage/paging.py
    (at most 1,000 counted), in one statement."""
    query = Query()
    query.where(f"a.endpoint_id = {query.arg(endpoint_id)}")
    return await query.page(
        connection,
        """
        SELECT a.id, m.webhook_id, m.event_type, a.attempt, a.attempted_at, a.status_code,
               a.outcome, a.error, a.response_body, a.duration_ms, a.next_attempt_at
        FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id
        """,
        "id DESC",
        lambda row: Attempt(**{k: v for k, v in row.items() if k != "total"}),
        page=page,
        page_size=page_size,
    )
