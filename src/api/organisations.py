"""Organisations and their API keys. Admins (support bodies) onboard buyers and suppliers."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromQuery, JSONBody

from asfmatch.api.errors import InvalidInput, conflict, forbidden, not_found
from asfmatch.api.schemas import Email, Label, Name, OrgNumber, PageNumber, PageSize, PathId
from asfmatch.api.state import Caller, Db, require
from asfmatch.api.validation import Checker
from asfmatch.storage import organisations as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import ApiKey, DuplicateOrgNumber, Organisation, Principal
from asfmatch.storage.paging import Page


class OrganisationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An organisation to onboard."""

    kind: Literal["buyer", "supplier", "admin"]
    name: Name
    org_number: OrgNumber
    contact_email: Email | None = None


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new API key; the label says where it is used."""

    label: Label = ""


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key: `key` is shown this once and is not stored."""

    key: str
    api_key: ApiKey


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """Who the calling key belongs to."""

    organisation: Organisation
    role: str
    key_id: PathId


async def create_organisation(db: Connection, body: OrganisationCreate) -> Organisation:
    """Validate and insert an organisation; 409 if its number is already registered."""
    check = Checker()
    name = check.text("name", body.name)
    org_number = check.org_number("org_number", body.org_number)
    email = check.email("contact_email", body.contact_email)
    if check.errors:
        raise InvalidInput(check.errors)
    try:
        return await repo.create_organisation(
            db, kind=body.kind, name=name, org_number=org_number, contact_email=email
        )
    except DuplicateOrgNumber:
        raise conflict(
            f"organisation number {org_number} is already registered", "org_number"
        ) from None


def may_manage(principal: Principal, organisation_id: int) -> None:
    """Admins manage every organisation; others only their own."""
    if principal.role != "admin" and principal.organisation_id != organisation_id:
        raise forbidden("you may only manage your own organisation")


class OrganisationController(Controller):
    """/api/v1/organisations"""

    path = "/api/v1/organisations"
    tags = ["organisations"]

    @post("/", status_code=201, summary="Onboard an organisation (admin)")
    async def create(
        self, db: Db, principal: Caller, data: JSONBody[OrganisationCreate]
    ) -> Organisation:
        require(principal, "admin")
        return await create_organisation(db, data)

    @get("/", summary="List organisations (admin)")
    async def index(
        self,
        db: Db,
        principal: Caller,
        kind: FromQuery[Literal["buyer", "supplier", "admin"] | None] = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Page[Organisation]:
        require(principal, "admin")
        items, total = await repo.list_organisations(
            db, kind=kind, limit=page_size, offset=(page - 1) * page_size
        )
        return Page(items=items, page=page, page_size=page_size, total=total)

    @get("/{organisation_id:int}", summary="One organisation (admin or itself)")
    async def read(self, db: Db, principal: Caller, organisation_id: PathId) -> Organisation:
        may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
        found = await repo.get_organisation(db, organisation_id)
        if found is None:
            raise not_found("organisation", organisation_id)
        return found

    @post("/{organisation_id:int}/keys", status_code=201, summary="Create an API key, shown once")
    async def create_key(
        self,
        db: Db,
        principal: Caller,
        organisation_id: PathId,
        data: JSONBody[KeyCreate | None] = None,
    ) -> CreatedKey:
        may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
        if await repo.get_organisation(db, organisation_id) is None:
            raise not_found("organisation", organisation_id)
        api_key, secret = await repo.create_api_key(db, organisation_id, data.label if data else "")
        return CreatedKey(key=secret, api_key=api_key)

    @get("/{organisation_id:int}/keys", summary="List API keys (never their secrets)")
    async def list_keys(self, db: Db, principal: Caller, organisation_id: PathId) -> list[ApiKey]:
        may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
        if await repo.get_organisation(db, organisation_id) is None:
            raise not_found("organisation", organisation_id)
        return await repo.list_api_keys(db, organisation_id)

    @delete("/{organisation_id:int}/keys/{key_id:int}", status_code=200, summary="Revoke a key")
    async def revoke_key(
        self, db: Db, principal: Caller, organisation_id: PathId, key_id: PathId
    ) -> ApiKey:
        may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
        revoked = await repo.revoke_api_key(db, organisation_id, key_id)
        if revoked is None:
            raise not_found("API key", key_id)
        return revoked


class MeController(Controller):
    """/api/v1/me"""

    path = "/api/v1/me"
    tags = ["organisations"]

    @get("/", summary="The organisation behind the calling key")
    async def me(self, db: Db, principal: Caller) -> Me:
        who = require(principal, "admin", "buyer", "supplier")
        organisation = await repo.get_organisation(db, who.organisation_id)
        assert organisation is not None
        return Me(organisation=organisation, role=who.role, key_id=who.key_id)
