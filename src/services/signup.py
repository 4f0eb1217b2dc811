"""Self-service sign-up: an organisation registers itself (with its ASF's first profile) and
gets its first API key, shown once. It then waits for an admin's approval before it reaches
anyone: a pending ASF is neither listed nor matched (its profile stays inactive), a pending
buyer may prepare drafts but not publish. So a made-up organisation can neither appear in
the public directory nor send notifications to real ASFs before a person has looked at it."""

from __future__ import annotations

from typing import Literal

import msgspec

from asfmatch.services import suppliers as suppliers_service
from asfmatch.services.access import require
from asfmatch.services.errors import FieldError, Invalid, NotFound
from asfmatch.services.fields import Email, Name, OrgNumber
from asfmatch.services.organisations import OrganisationCreate, create_organisation
from asfmatch.services.suppliers import SupplierCreate
from asfmatch.storage import jobs, signups
from asfmatch.storage import notices as notices_repo
from asfmatch.storage import organisations as organisations_repo
from asfmatch.storage import suppliers as suppliers_repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Organisation, Principal, create_api_key
from asfmatch.storage.signups import PendingOrganisation


class SignUp(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who registers: a buyer or an ASF, with a contact address for the approval."""

    kind: Literal["buyer", "supplier"]
    name: Name
    org_number: OrgNumber
    contact_email: Email


class SignedUp(msgspec.Struct, frozen=True, kw_only=True):
    """The new organisation and its first key (the secret is shown this once)."""

    organisation: Organisation
    key: str


async def sign_up(db: Connection, body: SignUp, profile: SupplierCreate | None) -> SignedUp:
    """Register an organisation, pending approval; an ASF's first profile is stored inactive."""
    if body.kind == "supplier" and profile is None:
        raise Invalid([FieldError("profile", "an ASF registers with its first profile")])
    organisation = await create_organisation(
        db,
        OrganisationCreate(
            kind=body.kind,
            name=body.name,
            org_number=body.org_number,
            contact_email=body.contact_email,
        ),
    )
    await signups.mark_pending(db, organisation.id)
    if profile is not None and body.kind == "supplier":
        own = Principal(organisation_id=organisation.id, role="supplier", key_id=0)
        await suppliers_service.create_supplier(
            db,
            own,
            msgspec.structs.replace(
                profile, name=organisation.name, org_number=organisation.org_number, active=False
            ),
        )
    _, secret = await create_api_key(db, organisation.id, "self-service sign-up")
    return SignedUp(organisation=organisation, key=secret)


async def pending(db: Connection, principal: Principal | None) -> list[PendingOrganisation]:
    """Organisations waiting for approval (admins)."""
    require(principal, "admin")
    return await signups.pending_organisations(db, 100)


async def approve(db: Connection, principal: Principal | None, organisation_id: int) -> None:
    """An admin lets a waiting organisation reach people: its ASF profile goes live."""
    require(principal, "admin")
    if not await signups.approve(db, organisation_id):
        raise NotFound("pending organisation", organisation_id)
    organisation = await organisations_repo.get_organisation(db, organisation_id)
    if organisation is not None and organisation.kind == "buyer":
        # Approving checks the organisation number, the same trust an admin's onboarding gives,
        # and that is what a claim rests on: the buyer now owns its imported notices.
        await notices_repo.claim_needs(db, organisation.id, organisation.org_number)
    supplier = await suppliers_repo.supplier_of_organisation(db, organisation_id)
    if supplier is not None and not supplier.active:
        await suppliers_repo.update_supplier(db, supplier.id, {"active": True})
        await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier.id)
