"""Organisations and their API keys. Admins (support bodies) onboard buyers and suppliers."""

from __future__ import annotations

from typing import Literal

import msgspec

from asfmatch.services.access import may_manage, require
from asfmatch.services.errors import Conflict, NotFound
from asfmatch.services.fields import Email, Id, Label, Name, OrgNumber
from asfmatch.services.validation import Checker
from asfmatch.storage import notices as notices_repo
from asfmatch.storage import organisations as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import ApiKey, DuplicateOrgNumber, Organisation, Principal
from asfmatch.storage.paging import Page

OrganisationKind = Literal["buyer", "supplier", "admin"]


class OrganisationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An organisation to onboard."""

    kind: OrganisationKind
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
    key_id: Id


async def create_organisation(db: Connection, body: OrganisationCreate) -> Organisation:
    """Validate and insert an organisation; Conflict if its number is already registered."""
    check = Checker()
    name = check.text("name", body.name)
    org_number = check.org_number("org_number", body.org_number)
    email = check.email("contact_email", body.contact_email)
    check.raise_if_failed()
    try:
        return await repo.create_organisation(
            db, kind=body.kind, name=name, org_number=org_number, contact_email=email
        )
    except DuplicateOrgNumber:
        raise Conflict(
            f"organisation number {org_number} is already registered", "org_number"
        ) from None


async def onboard(
    db: Connection, principal: Principal | None, body: OrganisationCreate
) -> Organisation:
    """An admin onboards an organisation; a buyer takes over its imported notices at once."""
    require(principal, "admin")
    organisation = await create_organisation(db, body)
    # The admin vouches for the organisation number here, which is what a claim rests on: a
    # buyer onboarded after its notices were imported should not have to ask for them.
    if organisation.kind == "buyer":
        await notices_repo.claim_needs(db, organisation.id, organisation.org_number)
    return organisation


async def list_organisations(
    db: Connection,
    principal: Principal | None,
    kind: OrganisationKind | None,
    page: int,
    page_size: int,
) -> Page[Organisation]:
    """Every organisation, for admins."""
    require(principal, "admin")
    return await repo.list_organisations(db, kind=kind, page=page, page_size=page_size)


async def managed_organisation(
    db: Connection, principal: Principal | None, organisation_id: int
) -> Organisation:
    """An organisation the caller may manage (itself, or any for an admin)."""
    may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
    found = await repo.get_organisation(db, organisation_id)
    if found is None:
        raise NotFound("organisation", organisation_id)
    return found


async def create_key(
    db: Connection,
    principal: Principal | None,
    organisation_id: int,
    body: KeyCreate | None,
    *,
    max_keys: int,
) -> CreatedKey:
    """A new key for an organisation the caller manages; its secret is returned this once.
    Conflict when the organisation already holds `max_keys` unrevoked keys: every key shares
    the organisation's rate limit, and a cap keeps the key list reviewable."""
    await managed_organisation(db, principal, organisation_id)
    if await repo.count_active_keys_locked(db, organisation_id) >= max_keys:
        raise Conflict(
            f"an organisation holds at most {max_keys} active API keys; revoke one first"
        )
    api_key, secret = await repo.create_api_key(db, organisation_id, body.label if body else "")
    return CreatedKey(key=secret, api_key=api_key)


async def list_keys(
    db: Connection, principal: Principal | None, organisation_id: int
) -> list[ApiKey]:
    """The keys of an organisation the caller manages (never their secrets)."""
    await managed_organisation(db, principal, organisation_id)
    return await repo.list_api_keys(db, organisation_id)


async def revoke_key(
    db: Connection, principal: Principal | None, organisation_id: int, key_id: int
) -> ApiKey:
    """Revoke one key of an organisation the caller manages."""
    may_manage(require(principal, "admin", "buyer", "supplier"), organisation_id)
    revoked = await repo.revoke_api_key(db, organisation_id, key_id)
    if revoked is None:
        raise NotFound("API key", key_id)
    return revoked


async def whoami(db: Connection, principal: Principal | None) -> Me:
    """The organisation and role behind the calling key."""
    who = require(principal, "admin", "buyer", "supplier")
    organisation = await repo.get_organisation(db, who.organisation_id)
    assert organisation is not None
    return Me(organisation=organisation, role=who.role, key_id=who.key_id)


async def ensure_organisation(
    db: Connection, kind: OrganisationKind, name: str, org_number: str
) -> Organisation:
    """The organisation of `kind` with this number, created if it is not registered yet;
    Conflict if the number belongs to an organisation of another kind."""
    check = Checker()
    number = check.org_number("org_number", org_number)
    check.raise_if_failed()
    existing = await repo.find_organisation(db, number)
    if existing is None:
        return await repo.create_organisation(db, kind=kind, name=name.strip(), org_number=number)
    if existing.kind != kind:
        raise Conflict(f"{number} is registered as a {existing.kind}", "org_number")
    return existing


async def operator_key(db: Connection, name: str, org_number: str, label: str) -> str:
    """A new key of the admin organisation with this number (created if need be), for an
    operator's command rather than a client's request. Returns the secret."""
    admin = await ensure_organisation(db, "admin", name, org_number)
    _, secret = await repo.create_api_key(db, admin.id, label)
    return secret
