"""Verified criteria: a support body vouches for an ASF's four criteria and target-group share;
the verification lapses with time and when a verified field is edited (docs/trust.md)."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from asfmatch.services.access import require
from asfmatch.services.errors import FieldError, Forbidden, Invalid, NotFound
from asfmatch.services.fields import Share
from asfmatch.services.text import TEXT
from asfmatch.storage import jobs, matches
from asfmatch.storage import verifications as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal
from asfmatch.storage.settings import Settings
from asfmatch.storage.suppliers import Supplier, get_supplier, swedish_today
from asfmatch.storage.verifications import VERIFIED_FIELDS, NewVerification, VerificationRecord

Note = Annotated[str, Meta(min_length=1, max_length=2000, pattern=TEXT)]


class VerificationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a support body checked: the share and the four criteria as it found them, the day
    of the check (default today) and a note on how it checked. The values become the
    profile's."""

    verified_on: date | None = None
    note: Note
    target_group_share: Share
    work_integration_aim: bool
    employee_participation: bool
    profits_reinvested: bool
    independent_of_public_sector: bool


class VerificationHistory(msgspec.Struct, frozen=True, kw_only=True):
    """Every verification of a supplier, newest first."""

    supplier_id: int
    items: list[VerificationRecord]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def record_verification(
    db: Connection,
    settings: Settings,
    principal: Principal | None,
    supplier_id: int,
    body: VerificationCreate,
) -> VerificationRecord:
    """Record an admin's verification in its own organisation's name; the checked values are
    written to the profile, and the supplier is ranked again when that changes anything."""
    admin = require(principal, "admin")
    current = await get_supplier(db, supplier_id)
    if current is None:
        raise NotFound("supplier", supplier_id)
    today = swedish_today()
    verified_on = body.verified_on or today
    months = settings.verification_valid_months
    valid_until = add_months(verified_on, months)
    errors: list[FieldError] = []
    if verified_on > today:
        errors.append(FieldError("verified_on", "a check cannot be recorded for a future day"))
    elif valid_until < today:
        errors.append(
            FieldError(
                "verified_on",
                f"a check on {verified_on} no longer holds: verifications hold {months} months",
            )
        )
    note = body.note.strip()
    if not note:
        errors.append(FieldError("note", "must not be blank: say how the criteria were checked"))
    if errors:
        raise Invalid(errors)
    checked = {name: getattr(body, name) for name in VERIFIED_FIELDS}
    record = await repo.record(
        db,
        supplier_id,
        NewVerification(
            verified_by_id=admin.organisation_id,
            verified_on=verified_on,
            valid_until=valid_until,
            note=note,
            **checked,
        ),
    )
    changed = any(getattr(current, name) != value for name, value in checked.items())
    if changed or (settings.reserved_requires_verification and not current.verified):
        await _rank_again(db, supplier_id)
    return record


async def history(
    db: Connection, principal: Principal | None, supplier_id: int
) -> VerificationHistory:
    """A supplier's verifications with their notes, for the supplier itself and admins."""
    caller = require(principal, "admin", "supplier")
    supplier = await get_supplier(db, supplier_id)
    if supplier is None:
        raise NotFound("supplier", supplier_id)
    if caller.role != "admin" and caller.organisation_id != supplier.organisation_id:
        raise Forbidden("only the supplier itself and admins see its verification history")
    return VerificationHistory(supplier_id=supplier_id, items=await repo.history(db, supplier_id))


def edits_verified_fields(current: Supplier, fields: dict[str, Any]) -> bool:
    """True when an edit changes a field a verification vouches for."""
    return any(
        name in fields and fields[name] != getattr(current, name) for name in VERIFIED_FIELDS
    )


async def lapse_on_edit(
    db: Connection, principal: Principal, current: Supplier, fields: dict[str, Any]
) -> None:
    """An edit of a verified field, by the supplier or an admin, lapses the verification: it
    vouched for the old values. (The caller re-ranks the edited profile anyway.)"""
    if edits_verified_fields(current, fields):
        await repo.lapse(db, current.id, "profile_changed", principal.organisation_id)


async def lapse_expired(db: Connection, settings: Settings, today: date | None = None) -> list[int]:
    """Lapse every verification past its last valid day; with verification required for
    reserved contracts, rank those suppliers again. Returns the suppliers whose lapsed."""
    lapsed = await repo.due_to_expire(db, today or swedish_today())
    for supplier_id in lapsed:
        async with db.transaction():
            if await repo.lapse(db, supplier_id, "expired", None) and (
                settings.reserved_requires_verification
            ):
                await _rank_again(db, supplier_id)
    return lapsed


async def _rank_again(db: Connection, supplier_id: int) -> None:
    # As a profile edit does: the stored pairs described another eligibility.
    for need_id in await matches.forget_supplier(db, supplier_id):
        await jobs.enqueue(db, jobs.RANK_NEED, need_id)
    await jobs.enqueue(db, jobs.RANK_SUPPLIER, supplier_id)
