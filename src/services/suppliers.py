"""Supplier profiles: ASFs describe what they sell, where, and to whom they give work."""

from __future__ import annotations

from typing import Any

import msgspec

from asfmatch.services.access import require, sees_private_profile
from asfmatch.services.approval import refuse_while_pending
from asfmatch.services.errors import Conflict, Forbidden, NotFound
from asfmatch.services.fields import (
    Count,
    CpvCodes,
    Description,
    Email,
    KommunCode,
    LegalForm,
    Name,
    OrgNumber,
    Sek,
    ServiceArea,
    Share,
)
from asfmatch.services.organisations import OrganisationCreate, create_organisation
from asfmatch.services.validation import Checker
from asfmatch.services.verifications import lapse_on_edit
from asfmatch.storage import jobs, matches
from asfmatch.storage import organisations as organisations_repo
from asfmatch.storage import suppliers as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal
from asfmatch.storage.paging import Page
from asfmatch.storage.suppliers import ProfileExists, Supplier, SupplierFilter


class SupplierCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A supplier profile. Admins may attach it to an existing supplier organisation."""

    name: Name
    org_number: OrgNumber
    legal_form: LegalForm
    description: Description
    home_kommun: KommunCode | None = None
    cpv_codes: CpvCodes = msgspec.field(default_factory=list)
    service_area: ServiceArea
    employees: Count
    target_group_share: Share
    max_contract_value_sek: Sek | None = None
    training_places: Count = 0
    work_integration_aim: bool = False
    employee_participation: bool = False
    profits_reinvested: bool = False
    independent_of_public_sector: bool = False
    contact_email: Email | None = None
    active: bool = True
    # False: never suggest this ASF as a partner in a joint bid (docs/joint-bids.md).
    joint_bids: bool = True


class SupplierUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; absent fields stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    legal_form: LegalForm | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    home_kommun: KommunCode | msgspec.UnsetType | None = msgspec.UNSET
    cpv_codes: CpvCodes | msgspec.UnsetType = msgspec.UNSET
    service_area: ServiceArea | msgspec.UnsetType = msgspec.UNSET
    employees: Count | msgspec.UnsetType = msgspec.UNSET
    target_group_share: Share | msgspec.UnsetType = msgspec.UNSET
    max_contract_value_sek: Sek | msgspec.UnsetType | None = msgspec.UNSET
    training_places: Count | msgspec.UnsetType = msgspec.UNSET
    work_integration_aim: bool | msgspec.UnsetType = msgspec.UNSET
    employee_participation: bool | msgspec.UnsetType = msgspec.UNSET
    profits_reinvested: bool | msgspec.UnsetType = msgspec.UNSET
    independent_of_public_sector: bool | msgspec.UnsetType = msgspec.UNSET
    contact_email: Email | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    joint_bids: bool | msgspec.UnsetType = msgspec.UNSET


class SupplierQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of a supplier listing as the client gave them (codes not yet checked)."""

    lan: str | None = None
    kommun: str | None = None
    cpv: str | None = None
    active: bool | None = None
    q: str | None = None


def _checked_fields(body: SupplierCreate | SupplierUpdate) -> dict[str, Any]:
    """The set fields of `body`, validated against reference data and normalised."""
    fields = {
        name: value
        for name in body.__struct_fields__
        if (value := getattr(body, name)) is not msgspec.UNSET
    }
    check = Checker()
    if fields.get("home_kommun") is not None:
        check.kommun("home_kommun", fields["home_kommun"])
    if "cpv_codes" in fields:
        fields["cpv_codes"] = check.cpv_codes("cpv_codes", fields["cpv_codes"])
    if "service_area" in fields:
        fields["service_area"] = check.service_area("service_area", fields["service_area"])
    if "contact_email" in fields:
        check.email("contact_email", fields["contact_email"])
    if "org_number" in fields:
        fields["org_number"] = check.org_number("org_number", fields["org_number"])
    if isinstance(fields.get("name"), str):
        fields["name"] = check.text("name", fields["name"])
    check.raise_if_failed()
    return fields


async def create_supplier(
    db: Connection, principal: Principal | None, body: SupplierCreate
) -> Supplier:
    """Create a profile: a supplier for itself, an admin for any (new or existing) supplier
    organisation. Queues the job that finds the needs it suits."""
    principal = require(principal, "admin", "supplier")
    fields = _checked_fields(body)
    organisation = await organisations_repo.find_organisation(db, fields["org_number"])
    if principal.role == "supplier":
        if organisation is None or organisation.id != principal.organisation_id:
            raise Forbidden("a supplier key may only create the profile of its own organisation")
    elif organisation is None:
        organisation = await create_organisation(
            db,
            OrganisationCreate(
                kind="supplier",
                name=fields["name"],
                org_number=fields["org_number"],
                contact_email=fields.get("contact_email"),
            ),
        )
    elif organisation.kind != "supplier":
        raise Conflict(
            f"organisation {organisation.org_number} is a {organisation.kind}", "org_number"
        )
    if fields.get("active", True):
        await refuse_while_pending(db, organisation.id, "active")
    if await repo.supplier_of_organisation(db, organisation.id) is not None:
        raise Conflict(
            f"organisation {organisation.org_number} already has a profile", "org_number"
        )
    await organisations_repo.update_organisation(db, organisation.id, {"name": fields["name"]})
    try:
        return await repo.insert_supplier(db, organisation.id, fields, rank_job=jobs.RANK_SUPPLIER)
    except ProfileExists:
        # A concurrent request created it between our check and our insert.
        raise Conflict(
            f"organisation {organisation.org_number} already has a profile", "org_number"
        ) from None


async def update_supplier(
    db: Connection, principal: Principal | None, supplier_id: int, body: SupplierUpdate
) -> Supplier:
    """Change a profile (its owner or an admin); its match lists are recomputed."""
    principal = require(principal, "admin", "supplier")
    current = await repo.get_supplier(db, supplier_id)
    if current is None:
        raise NotFound("supplier", supplier_id)
    if principal.role != "admin" and principal.organisation_id != current.organisation_id:
        raise Forbidden("you may only change your own supplier profile")
    fields = _checked_fields(body)
    await lapse_on_edit(db, principal, current, fields)
    if fields.get("active"):
        await refuse_while_pending(db, current.organisation_id, "active")
    if "name" in fields:
        await organisations_repo.update_organisation(
            db, current.organisation_id, {"name": fields["name"]}
        )
    updated = await repo.update_supplier(db, supplier_id, fields)
    assert updated is not None
    if updated != current:
        # Old scores describe a profile that no longer exists: drop them in this transaction,
        # and rank again both this supplier and every need whose list it was on.
        for need_id in await matches.forget_supplier(db, supplier_id):
            await jobs.enqueue(db, jobs.RANK_NEED, need_id)
        await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier_id)
    return updated


def public_view(supplier: Supplier, principal: Principal | None) -> Supplier:
    """Profiles are public; the contact e-mail only shows to the supplier itself and admins."""
    if sees_private_profile(principal, supplier.organisation_id):
        return supplier
    return msgspec.structs.replace(supplier, contact_email=None)


async def list_suppliers(
    db: Connection, principal: Principal | None, query: SupplierQuery, page: int, page_size: int
) -> Page[Supplier]:
    """Profiles matching the filters, as the caller may see them."""
    check = Checker()
    filters = SupplierFilter(
        lan=None if query.lan is None else check.lan("lan", query.lan),
        kommun=None if query.kommun is None else check.kommun("kommun", query.kommun),
        cpv_prefix=None if query.cpv is None else check.cpv_prefix("cpv", query.cpv),
        active=query.active,
        query=query.q[:200] if query.q else None,
    )
    check.raise_if_failed()
    found = await repo.list_suppliers(db, filters, page=page, page_size=page_size)
    return msgspec.structs.replace(
        found, items=[public_view(item, principal) for item in found.items]
    )


async def read_supplier(db: Connection, principal: Principal | None, supplier_id: int) -> Supplier:
    """One profile, as the caller may see it."""
    found = await repo.get_supplier(db, supplier_id)
    if found is None:
        raise NotFound("supplier", supplier_id)
    return public_view(found, principal)
