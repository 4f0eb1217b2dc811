"""/api/v1/organisations and /api/v1/me: onboarding and API keys over HTTP."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PageNumber, PageSize, PathId
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import organisations as service
from asfmatch.services.organisations import (
    CreatedKey,
    KeyCreate,
    Me,
    OrganisationCreate,
    OrganisationKind,
)
from asfmatch.storage.organisations import ApiKey, Organisation
from asfmatch.storage.paging import Page


class OrganisationController(Controller):
    """/api/v1/organisations"""

    path = "/api/v1/organisations"
    guards = [requires_key]
    tags = ["organisations"]

    @post("/", status_code=201, summary="Onboard an organisation (admin)")
    async def create(
        self, db: Db, principal: Caller, data: JSONBody[OrganisationCreate]
    ) -> Organisation:
        return await service.onboard(db, principal, data)

    @get("/", summary="List organisations (admin)")
    async def index(
        self,
        db: Db,
        principal: Caller,
        kind: FromQuery[OrganisationKind | None] = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Page[Organisation]:
        return await service.list_organisations(db, principal, kind, page, page_size)

    @get("/{organisation_id:int}", summary="One organisation (admin or itself)")
    async def read(self, db: Db, principal: Caller, organisation_id: PathId) -> Organisation:
        return await service.managed_organisation(db, principal, organisation_id)

    @post("/{organisation_id:int}/keys", status_code=201, summary="Create an API key, shown once")
    async def create_key(
        self,
        state: State,
        db: Db,
        principal: Caller,
        organisation_id: PathId,
        data: JSONBody[KeyCreate | None] = None,
    ) -> CreatedKey:
        cap = resources(state).settings.max_api_keys_per_organisation
        return await service.create_key(db, principal, organisation_id, data, max_keys=cap)

    @get("/{organisation_id:int}/keys", summary="List API keys (never their secrets)")
    async def list_keys(self, db: Db, principal: Caller, organisation_id: PathId) -> list[ApiKey]:
        return await service.list_keys(db, principal, organisation_id)

    @delete("/{organisation_id:int}/keys/{key_id:int}", status_code=200, summary="Revoke a key")
    async def revoke_key(
        self, state: State, db: Db, principal: Caller, organisation_id: PathId, key_id: PathId
    ) -> ApiKey:
        revoked = await service.revoke_key(db, principal, organisation_id, key_id)
        # This process forgets the key now, so the revoker's next request is refused; the
        # others hear of it through NOTIFY at commit (api/principals.py).
        resources(state).principals.forget_key(key_id)
        return revoked


class MeController(Controller):
    """/api/v1/me"""

    path = "/api/v1/me"
    guards = [requires_key]
    tags = ["organisations"]

    @get("/", summary="The organisation behind the calling key")
    async def me(self, db: Db, principal: Caller) -> Me:
        return await service.whoami(db, principal)
