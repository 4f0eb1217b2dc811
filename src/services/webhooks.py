"""Webhook endpoints of a supplier (Standard Webhooks): registration with an SSRF check, secret
rotation, a test event, and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from asfmatch.services.errors import Conflict, FieldError, Invalid, NotFound
from asfmatch.services.notifications import owned_supplier
from asfmatch.services.text import LINE
from asfmatch.storage import outbound
from asfmatch.storage import webhooks as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal
from asfmatch.storage.paging import Page
from asfmatch.storage.settings import Settings
from asfmatch.storage.webhooks import Attempt, Endpoint

Url = Annotated[
    str, Meta(min_length=1, max_length=2000, pattern=LINE, examples=["https://example.se/hooks"])
]
EndpointDescription = Annotated[str, Meta(max_length=200, pattern=LINE)]


class EndpointCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where to POST events. It must resolve to public addresses only."""

    url: Url
    description: EndpointDescription = ""


class EndpointUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; `enabled: true` re-enables a disabled endpoint."""

    url: Url | msgspec.UnsetType = msgspec.UNSET
    description: EndpointDescription | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class EndpointCreated(Endpoint, frozen=True, kw_only=True):
    """A new endpoint with its signing secret, shown this once (rotate to get a new one)."""

    secret: str


class SecretRotated(msgspec.Struct, frozen=True, kw_only=True):
    """The new secret; events carry a signature by each secret until `previous_valid_until`."""

    endpoint_id: int
    secret: str
    previous_valid_until: datetime


class TestEventQueued(msgspec.Struct, frozen=True, kw_only=True):
    """A `webhook.test` event is on its way; its attempts appear in the delivery log."""

    endpoint_id: int
    webhook_id: str


async def _checked_url(url: str, settings: Settings) -> str:
    try:
        _, host, port = outbound.check_url(url.strip())
        await outbound.resolve(host, port, allow_private=settings.webhook_allow_private)
    except outbound.Refused as error:
        raise Invalid([FieldError("url", str(error))]) from None
    return url.strip()


async def owned_endpoint(
    db: Connection, principal: Principal | None, supplier_id: int, endpoint_id: int
) -> Endpoint:
    """One endpoint of a supplier the caller is (or administers)."""
    await owned_supplier(db, principal, supplier_id)
    found = await repo.get_endpoint(db, endpoint_id)
    if found is None or found.supplier_id != supplier_id:
        raise NotFound("webhook endpoint", endpoint_id)
    return found


async def create_endpoint(
    db: Connection,
    settings: Settings,
    principal: Principal | None,
    supplier_id: int,
    body: EndpointCreate,
) -> EndpointCreated:
    """Register an endpoint whose URL resolves to public addresses only."""
    await owned_supplier(db, principal, supplier_id)
    url = await _checked_url(body.url, settings)
    if await repo.count_endpoints(db, supplier_id) >= repo.MAX_ENDPOINTS_PER_SUPPLIER:
        raise Conflict(
            f"a supplier has at most {repo.MAX_ENDPOINTS_PER_SUPPLIER} webhook endpoints"
        )
    endpoint, secret = await repo.create_endpoint(db, supplier_id, url, body.description.strip())
    return EndpointCreated(**msgspec.structs.asdict(endpoint), secret=secret)


async def list_endpoints(
    db: Connection, principal: Principal | None, supplier_id: int
) -> list[Endpoint]:
    """A supplier's endpoints."""
    await owned_supplier(db, principal, supplier_id)
    return await repo.list_endpoints(db, supplier_id)


async def update_endpoint(
    db: Connection,
    settings: Settings,
    principal: Principal | None,
    supplier_id: int,
    endpoint_id: int,
    body: EndpointUpdate,
) -> Endpoint:
    """Change an endpoint; a new URL passes the same check as at registration."""
    await owned_endpoint(db, principal, supplier_id, endpoint_id)
    changes = {
        name: value
        for name in body.__struct_fields__
        if (value := getattr(body, name)) is not msgspec.UNSET
    }
    if "url" in changes:
        changes["url"] = await _checked_url(changes["url"], settings)
    if "description" in changes:
        changes["description"] = changes["description"].strip()
    return await repo.update_endpoint(db, endpoint_id, changes)


async def remove_endpoint(
    db: Connection, principal: Principal | None, supplier_id: int, endpoint_id: int
) -> None:
    """Remove an endpoint and its delivery log."""
    await owned_endpoint(db, principal, supplier_id, endpoint_id)
    await repo.delete_endpoint(db, endpoint_id)


async def rotate_secret(
    db: Connection,
    settings: Settings,
    principal: Principal | None,
    supplier_id: int,
    endpoint_id: int,
) -> SecretRotated:
    """A new signing secret; the old one keeps signing for the configured overlap."""
    await owned_endpoint(db, principal, supplier_id, endpoint_id)
    overlap = settings.webhook_secret_overlap_hours * 3600
    secret, until = await repo.rotate_secret(db, endpoint_id, overlap)
    return SecretRotated(endpoint_id=endpoint_id, secret=secret, previous_valid_until=until)


async def send_test(
    db: Connection,
    settings: Settings,
    principal: Principal | None,
    supplier_id: int,
    endpoint_id: int,
) -> TestEventQueued:
    """Queue a `webhook.test` event to an enabled endpoint."""
    endpoint = await owned_endpoint(db, principal, supplier_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("the endpoint is disabled; enable it first")
    body = repo.event_body(
        settings,
        kind="webhook.test",
        supplier_id=supplier_id,
        notification_id=None,
        need_ids=[],
        moment=datetime.now(UTC),
        extra={"endpoint_id": endpoint_id},
    )
    webhook_id = await repo.queue_message(db, endpoint_id, None, "webhook.test", body)
    return TestEventQueued(endpoint_id=endpoint_id, webhook_id=webhook_id)


async def deliveries(
    db: Connection,
    principal: Principal | None,
    supplier_id: int,
    endpoint_id: int,
    *,
    page: int,
    page_size: int,
) -> Page[Attempt]:
    """An endpoint's delivery log, newest first."""
    await owned_endpoint(db, principal, supplier_id, endpoint_id)
    return await repo.list_attempts(db, endpoint_id, page=page, page_size=page_size)
