"""Webhook endpoints of a supplier (Standard Webhooks): registration with an SSRF check, secret
rotation, a test event, and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody
from msgspec import Meta

from asfmatch.api.errors import ApiError, FieldError, InvalidInput, conflict, not_found
from asfmatch.api.notifications import owned_supplier
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import Caller, Db, resources
from asfmatch.api.text import LINE
from asfmatch.storage import outbound
from asfmatch.storage import webhooks as repo
from asfmatch.storage.db import Connection
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
        raise InvalidInput([FieldError("url", str(error))]) from None
    return url.strip()


async def _endpoint(db: Connection, supplier_id: int, endpoint_id: int) -> Endpoint:
    found = await repo.get_endpoint(db, endpoint_id)
    if found is None or found.supplier_id != supplier_id:
        raise not_found("webhook endpoint", endpoint_id)
    return found


class WebhookController(Controller):
    """/api/v1/suppliers/{id}/webhooks (the supplier or an admin)"""

    path = "/api/v1/suppliers/{supplier_id:int}/webhooks"
    tags = ["webhooks"]

    @post("/", status_code=201, summary="Register a webhook endpoint; returns its secret once")
    async def create(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        data: JSONBody[EndpointCreate],
    ) -> EndpointCreated:
        await owned_supplier(db, principal, supplier_id)
        url = await _checked_url(data.url, resources(state).settings)
        if await repo.count_endpoints(db, supplier_id) >= repo.MAX_ENDPOINTS_PER_SUPPLIER:
            raise conflict(
                f"a supplier has at most {repo.MAX_ENDPOINTS_PER_SUPPLIER} webhook endpoints"
            )
        endpoint, secret = await repo.create_endpoint(
            db, supplier_id, url, data.description.strip()
        )
        return EndpointCreated(**msgspec.structs.asdict(endpoint), secret=secret)

    @get("/", summary="A supplier's webhook endpoints")
    async def index(self, db: Db, principal: Caller, supplier_id: PathId) -> list[Endpoint]:
        await owned_supplier(db, principal, supplier_id)
        return await repo.list_endpoints(db, supplier_id)

    @get("/{endpoint_id:int}", summary="One webhook endpoint")
    async def read(
        self, db: Db, principal: Caller, supplier_id: PathId, endpoint_id: PathId
    ) -> Endpoint:
        await owned_supplier(db, principal, supplier_id)
        return await _endpoint(db, supplier_id, endpoint_id)

    @patch("/{endpoint_id:int}", summary="Change or re-enable a webhook endpoint")
    async def update(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        endpoint_id: PathId,
        data: JSONBody[EndpointUpdate],
    ) -> Endpoint:
        await owned_supplier(db, principal, supplier_id)
        await _endpoint(db, supplier_id, endpoint_id)
        changes = {
            name: value
            for name in data.__struct_fields__
            if (value := getattr(data, name)) is not msgspec.UNSET
        }
        if "url" in changes:
            changes["url"] = await _checked_url(changes["url"], resources(state).settings)
        if "description" in changes:
            changes["description"] = changes["description"].strip()
        return await repo.update_endpoint(db, endpoint_id, changes)

    @delete("/{endpoint_id:int}", summary="Remove a webhook endpoint and its delivery log")
    async def remove(
        self, db: Db, principal: Caller, supplier_id: PathId, endpoint_id: PathId
    ) -> None:
        await owned_supplier(db, principal, supplier_id)
        await _endpoint(db, supplier_id, endpoint_id)
        await repo.delete_endpoint(db, endpoint_id)

    @post(
        "/{endpoint_id:int}/rotate-secret",
        status_code=200,
        summary="New signing secret; the old one keeps signing during the overlap",
    )
    async def rotate_secret(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        endpoint_id: PathId,
    ) -> SecretRotated:
        await owned_supplier(db, principal, supplier_id)
        await _endpoint(db, supplier_id, endpoint_id)
        overlap = resources(state).settings.webhook_secret_overlap_hours * 3600
        secret, until = await repo.rotate_secret(db, endpoint_id, overlap)
        return SecretRotated(endpoint_id=endpoint_id, secret=secret, previous_valid_until=until)

    @post("/{endpoint_id:int}/test", status_code=202, summary="Send a webhook.test event")
    async def send_test(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        endpoint_id: PathId,
    ) -> TestEventQueued:
        await owned_supplier(db, principal, supplier_id)
        endpoint = await _endpoint(db, supplier_id, endpoint_id)
        if not endpoint.enabled:
            raise ApiError(409, "Conflict", "the endpoint is disabled; enable it first")
        body = repo.event_body(
            resources(state).settings,
            kind="webhook.test",
            supplier_id=supplier_id,
            notification_id=None,
            need_ids=[],
            moment=datetime.now(UTC),
            extra={"endpoint_id": endpoint_id},
        )
        webhook_id = await repo.queue_message(db, endpoint_id, None, "webhook.test", body)
        return TestEventQueued(endpoint_id=endpoint_id, webhook_id=webhook_id)

    @get("/{endpoint_id:int}/deliveries", summary="The endpoint's delivery log, newest first")
    async def deliveries(
        self,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        endpoint_id: PathId,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Page[Attempt]:
        await owned_supplier(db, principal, supplier_id)
        await _endpoint(db, supplier_id, endpoint_id)
        return await repo.list_attempts(db, endpoint_id, page=page, page_size=page_size)
