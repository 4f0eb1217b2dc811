"""Supplier profiles: one per supplier organisation, public except for contact details."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from asfmatch.matching.model import SupplierProfile
from asfmatch.storage.db import Connection
from asfmatch.storage.matches import lock_supplier_side
from asfmatch.storage.paging import Page, Query, contains_pattern

PROFILE_COLUMNS = (
    "legal_form",
    "description",
    "home_kommun",
    "cpv_codes",
    "service_area",
    "employees",
    "target_group_share",
    "max_contract_value_sek",
    "training_places",
    "work_integration_aim",
    "employee_participation",
    "profits_reinvested",
    "independent_of_public_sector",
    "contact_email",
    "active",
    "joint_bids",
)


# Verifications run on Swedish calendar days, whatever the server's time zone.
_SWEDEN = ZoneInfo("Europe/Stockholm")


def swedish_today() -> date:
    """Today's date in Sweden (on the process clock, which tests may move)."""
    return datetime.now(_SWEDEN).date()


class VerificationStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The supplier's latest verification as anyone may see it: which support body checked the
    four criteria and the target-group share, on which day, and whether it still holds."""

    verified_by: str
    verified_on: date
    valid_until: date
    valid: bool
    # Why it no longer holds: past valid_until, a verified field was edited, or replaced.
    lapse_reason: Literal["expired", "profile_changed", "superseded"] | None = None


class Supplier(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier profile with its organisation's name and number."""

    id: int
    organisation_id: int
    name: str
    org_number: str
    legal_form: str
    description: str
    home_kommun: str | None
    cpv_codes: list[str]
    service_area: list[str]
    employees: int
    target_group_share: float
    max_contract_value_sek: int | None
    training_places: int
    work_integration_aim: bool
    employee_participation: bool
    profits_reinvested: bool
    independent_of_public_sector: bool
    contact_email: str | None
    active: bool
    # False: the ASF is never suggested as a partner in a joint bid.
    joint_bids: bool = True
    created_at: datetime
    updated_at: datetime
    verification: VerificationStatus | None = None

    @property
    def verified(self) -> bool:
        """True while a support body's verification of this profile holds."""
        return self.verification is not None and self.verification.valid

    def profile(self, *, reserved_requires_verification: bool = False) -> SupplierProfile:
        """The part of this supplier the ranking core looks at; with the requirement on, an
        unverified supplier is kept out of reserved contracts."""
        return SupplierProfile(
            id=self.id,
            name=self.name,
            description=self.description,
            cpv_codes=tuple(self.cpv_codes),
            service_area=tuple(self.service_area),
            target_group_share=self.target_group_share,
            max_contract_value_sek=self.max_contract_value_sek,
            training_places=self.training_places,
            active=self.active,
            joint_bids=self.joint_bids,
            verified_for_reserved=self.verified or not reserved_requires_verification,
        )


class SupplierFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What a supplier listing may be narrowed by."""

    lan: str | None = None
    kommun: str | None = None
    cpv_prefix: str | None = None
    active: bool | None = None
    query: str | None = None


_COLUMNS = """
    SELECT s.id, s.organisation_id, o.name, o.org_number, s.legal_form, s.description,
           s.home_kommun, s.cpv_codes, s.service_area, s.employees, s.target_group_share,
           s.max_contract_value_sek, s.training_places, s.work_integration_aim,
           s.employee_participation, s.profits_reinvested, s.independent_of_public_sector,
           s.contact_email, s.active, s.joint_bids, s.created_at, s.updated_at,
           s.verification_id, lv.v_id, lv.v_by, lv.v_on, lv.v_until, lv.v_lapse
"""
# The verification in force or the last one that lapsed, shown with the profile.
_LATEST_VERIFICATION = """
    LEFT JOIN LATERAL (
        SELECT v.id AS v_id, vo.name AS v_by, v.verified_on AS v_on, v.valid_until AS v_until,
               v.lapse_reason AS v_lapse
        FROM supplier_verifications v JOIN organisations vo ON vo.id = v.verified_by
        WHERE v.supplier_id = s.id ORDER BY v.id DESC LIMIT 1
    ) lv ON true
"""
_SELECT = (
    _COLUMNS
    + " FROM supplier_profiles s JOIN organisations o ON o.id = s.organisation_id"
    + _LATEST_VERIFICATION
)
# The written row with its organisation's name, in the writing statement itself.
_RETURNING = (
    _COLUMNS
    + " FROM written s JOIN organisations o ON o.id = s.organisation_id"
    + _LATEST_VERIFICATION
)

_VERIFICATION_COLUMNS = {"verification_id", "v_id", "v_by", "v_on", "v_until", "v_lapse"}


class ProfileExists(Exception):
    """The organisation already has a supplier profile."""


def verification_status(
    verified_by: str, verified_on: date, valid_until: date, lapse_reason: str | None, in_force: bool
) -> VerificationStatus:
    """The public status of a supplier's latest verification as stored (`in_force`: the
    profile points at it), judged on today's Swedish date."""
    if in_force and lapse_reason is None and valid_until < swedish_today():
        # Past its last day but not yet marked by the worker's check: it holds no longer.
        lapse_reason = "expired"
    return msgspec.convert(
        {
            "verified_by": verified_by,
            "verified_on": verified_on,
            "valid_until": valid_until,
            "valid": in_force and lapse_reason is None,
            "lapse_reason": lapse_reason,
        },
        VerificationStatus,
    )


def _verification(row: asyncpg.Record) -> VerificationStatus | None:
    if row["v_id"] is None:
        return None
    return verification_status(
        row["v_by"],
        row["v_on"],
        row["v_until"],
        row["v_lapse"],
        row["v_id"] == row["verification_id"],
    )


def _supplier(row: asyncpg.Record) -> Supplier:
    skipped = {"total", "change_seq", *_VERIFICATION_COLUMNS}
    return Supplier(
        **{key: value for key, value in row.items() if key not in skipped},
        verification=_verification(row),
    )


async def insert_supplier(
    connection: Connection, organisation_id: int, fields: Mapping[str, object]
) -> Supplier:
    """Create the profile of a supplier organisation from `fields` (PROFILE_COLUMNS)."""
    columns = [column for column in PROFILE_COLUMNS if column in fields]
    placeholders = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    # ON CONFLICT instead of catching the violation: no savepoint round trips around it.
    row = await connection.fetchrow(
        f"""
        WITH written AS (
            INSERT INTO supplier_profiles (organisation_id, {", ".join(columns)})
            VALUES ($1, {placeholders}) ON CONFLICT (organisation_id) DO NOTHING RETURNING *
        )
        {_RETURNING}
        """,
        organisation_id,
        *(fields[column] for column in columns),
    )
    if row is None:
        raise ProfileExists(organisation_id)
    return _supplier(row)


async def update_supplier(
    connection: Connection, supplier_id: int, changes: Mapping[str, object]
) -> Supplier | None:
    """Apply `changes` (PROFILE_COLUMNS only) and return the new state, or None if unknown."""
    # The supplier's needs before the supplier, as the lock order in storage/matches.py asks:
    # the UPDATE below would otherwise lock the supplier first.
    await lock_supplier_side(connection, supplier_id)
    columns = [column for column in PROFILE_COLUMNS if column in changes]
    if not columns:
        return await get_supplier(connection, supplier_id)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=2))
    row = await connection.fetchrow(
        f"""
        WITH written AS (UPDATE supplier_profiles SET {assignments} WHERE id = $1 RETURNING *)
        {_RETURNING}
        """,
        supplier_id,
        *(changes[column] for column in columns),
    )
    return None if row is None else _supplier(row)


async def get_supplier(connection: Connection, supplier_id: int) -> Supplier | None:
    """The supplier with this id, or None."""
    row = await connection.fetchrow(_SELECT + " WHERE s.id = $1", supplier_id)
    return None if row is None else _supplier(row)


async def supplier_of_organisation(connection: Connection, organisation_id: int) -> Supplier | None:
    """The profile of a supplier organisation, or None if it has none yet."""
    row = await connection.fetchrow(_SELECT + " WHERE s.organisation_id = $1", organisation_id)
    return None if row is None else _supplier(row)


async def list_suppliers(
    connection: Connection, filters: SupplierFilter, *, page: int, page_size: int
) -> Page[Supplier]:
    """One page of suppliers matching `filters`, in id order."""
    query = Query()
    arg = query.arg
    if filters.kommun is not None:
        # Serves the kommun: lists it, its län, or the whole country.
        query.where(
            f"s.service_area && ARRAY[{arg(filters.kommun)}, {arg(filters.kommun[:2])}, 'SE']"
        )
    if filters.lan is not None:
        # Serves at least part of the län.
        query.where(
            f"""EXISTS (SELECT 1 FROM unnest(s.service_area) a
                        WHERE a = 'SE' OR left(a, 2) = {arg(filters.lan)})"""
        )
    if filters.cpv_prefix is not None:
        query.where(
            f"EXISTS (SELECT 1 FROM unnest(s.cpv_codes) c WHERE c LIKE {arg(filters.cpv_prefix)} || '%')"
        )
    if filters.active is not None:
        query.where(f"s.active = {arg(filters.active)}")
    if filters.query is not None:
        pattern = arg(contains_pattern(filters.query))
        query.where(f"(o.name ILIKE {pattern} OR s.description ILIKE {pattern})")
    return await query.page(connection, _SELECT, "id", _supplier, page=page, page_size=page_size)


async def suppliers_changed_since(
    connection: Connection, horizon: int
) -> list[tuple[Supplier, int]]:
    """Suppliers whose last change was made by a transaction with id `horizon` or later, each
    with its change number (see storage/changes.py)."""
    rows = await connection.fetch(
        _SELECT.replace("SELECT s.id,", "SELECT s.change_seq, s.id,", 1)
        + " WHERE s.change_xid >= $1::text::xid8 ORDER BY s.change_seq",
        str(horizon),
    )
    return [(_supplier(row), int(row["change_seq"])) for row in rows]
