"""/api/v1/suppliers/{id}/webhooks: a supplier's webhook endpoints over HTTP."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import webhooks as service
from asfmatch.services.webhooks import (
    EndpointCreate,
    EndpointCreated,
    EndpointUpdate,
    SecretRotated,
    TestEventQueued,
)
from asfmatch.storage.paging import Page
from asfmatch.storage.webhooks import Attempt, Endpoint


class WebhookController(Controller):
    """/api/v1/suppliers/{id}/webhooks (the supplier or an admin)"""

    path = "/api/v1/suppliers/{supplier_id:int}/webhooks"
    guards = [requires_key]
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
        settings = resources(state).settings
        return await service.create_endpoint(db, settings, principal, supplier_id, data)

    @get("/", summary="A supplier's webhook endpoints")
    async def index(self, db: Db, principal: Caller, supplier_id: PathId) -> list[Endpoint]:
        return await service.list_endpoints(db, principal, supplier_id)

    @get("/{endpoint_id:int}", summary="One webhook endpoint")
    async def read(
        self, db: Db, principal: Caller, supplier_id: PathId, endpoint_id: PathId
    ) -> Endpoint:
        return await service.owned_endpoint(db, principal, supplier_id, endpoint_id)

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
        settings = resources(state).settings
        return await service.update_endpoint(
            db, settings, principal, supplier_id, endpoint_id, data
        )

    @delete("/{endpoint_id:int}", summary="Remove a webhook endpoint and its delivery log")
    async def remove(
        self, db: Db, principal: Caller, supplier_id: PathId, endpoint_id: PathId
    ) -> None:
        await service.remove_endpoint(db, principal, supplier_id, endpoint_id)

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
        settings = resources(state).settings
        return await service.rotate_secret(db, settings, principal, supplier_id, endpoint_id)

    @post("/{endpoint_id:int}/test", status_code=202, summary="Send a webhook.test event")
    async def send_test(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        endpoint_id: PathId,
    ) -> TestEventQueued:
        settings = resources(state).settings
        return await service.send_test(db, settings, principal, supplier_id, endpoint_id)

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
        return await service.deliveries(
            db, principal, supplier_id, endpoint_id, page=page, page_size=page_size
        )
