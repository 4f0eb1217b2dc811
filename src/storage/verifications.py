"""Verified criteria: a support body's record that it checked an ASF's four criteria and its
target-group share, kept as history; the one in force is pointed at by the profile row."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import asyncpg
import msgspec

from asfmatch.storage.db import Connection
from asfmatch.storage.matches import bump_lists_showing, lock_supplier_side

LapseReason = Literal["expired", "profile_changed", "superseded"]

# The profile fields a verification vouches for; changing one of them lapses it.
VERIFIED_FIELDS = (
    "target_group_share",
    "work_integration_aim",
    "employee_participation",
    "profits_reinvested",
    "independent_of_public_sector",
)


class VerificationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One verification as recorded, with its lapse if it lapsed (the note is for the supplier
    itself and admins)."""

    id: int
    supplier_id: int
    verified_by_id: int
    verified_by: str
    verified_on: date
    valid_until: date
    note: str
    target_group_share: float
    work_integration_aim: bool
    employee_participation: bool
    profits_reinvested: bool
    independent_of_public_sector: bool
    recorded_at: datetime
    lapsed_at: datetime | None
    lapse_reason: LapseReason | None
    lapsed_by: str | None


class NewVerification(msgspec.Struct, frozen=True, kw_only=True):
    """What an admin records: the checked values, the day of the check and a note."""

    verified_by_id: int
    verified_on: date
    valid_until: date
    note: str
    target_group_share: float
    work_integration_aim: bool
    employee_participation: bool
    profits_reinvested: bool
    independent_of_public_sector: bool


_SELECT = """
    SELECT v.id, v.supplier_id, v.verified_by AS verified_by_id, o.name AS verified_by,
           v.verified_on, v.valid_until, v.note, v.target_group_share, v.work_integration_aim,
           v.employee_participation, v.profits_reinvested, v.independent_of_public_sector,
           v.recorded_at, v.lapsed_at, v.lapse_reason, l.name AS lapsed_by
    FROM supplier_verifications v
    JOIN organisations o ON o.id = v.verified_by
    LEFT JOIN organisations l ON l.id = v.lapsed_by
"""


def _record(row: asyncpg.Record) -> VerificationRecord:
    return VerificationRecord(**dict(row))


async def record(
    connection: Connection, supplier_id: int, verification: NewVerification
) -> VerificationRecord:
    """Store a verification, supersede the one in force, and write the checked values to the
    profile (they are the truth now); the profile's change makes the worker re-rank it."""
    await lock_supplier_side(connection, supplier_id)
    fields = msgspec.structs.asdict(verification)
    fields["verified_by"] = fields.pop("verified_by_id")
    new_id = await connection.fetchval(
        f"""
        INSERT INTO supplier_verifications (supplier_id, {", ".join(fields)})
        VALUES ($1, {", ".join(f"${i}" for i in range(2, len(fields) + 2))})
        RETURNING id
        """,
        supplier_id,
        *fields.values(),
    )
    await connection.execute(
        """
        UPDATE supplier_verifications
        SET lapsed_at = now(), lapse_reason = 'superseded', lapsed_by = $3
        WHERE supplier_id = $1 AND id <> $2 AND lapsed_at IS NULL
        """,
        supplier_id,
        new_id,
        verification.verified_by_id,
    )
    await connection.execute(
        """
        UPDATE supplier_profiles
        SET verification_id = $2, target_group_share = $3, work_integration_aim = $4,
            employee_participation = $5, profits_reinvested = $6,
            independent_of_public_sector = $7
        WHERE id = $1
        """,
        supplier_id,
        new_id,
        verification.target_group_share,
        verification.work_integration_aim,
        verification.employee_participation,
        verification.profits_reinvested,
        verification.independent_of_public_sector,
    )
    # The badge on every need list showing this supplier changes with it.
    await bump_lists_showing(connection, [supplier_id])
    found = await connection.fetchrow(_SELECT + " WHERE v.id = $1", new_id)
    assert found is not None
    return _record(found)


async def lapse(
    connection: Connection, supplier_id: int, reason: LapseReason, by_organisation: int | None
) -> bool:
    """Lapse the verification in force, if any; True when one lapsed. The caller holds (or
    takes here) the supplier side's locks, as every profile write does."""
    await lock_supplier_side(connection, supplier_id)
    lapsed = await connection.fetchval(
        """
        UPDATE supplier_verifications v
        SET lapsed_at = now(), lapse_reason = $2, lapsed_by = $3
        FROM supplier_profiles s
        WHERE s.id = $1 AND v.id = s.verification_id AND v.lapsed_at IS NULL
        RETURNING v.id
        """,
        supplier_id,
        reason,
        by_organisation,
    )
    await connection.execute(
        "UPDATE supplier_profiles SET verification_id = NULL WHERE id = $1 "
        "AND verification_id IS NOT NULL",
        supplier_id,
    )
    if lapsed is not None:
        await bump_lists_showing(connection, [supplier_id])
    return lapsed is not None


async def due_to_expire(connection: Connection, today: date) -> list[int]:
    """Suppliers whose verification in force is past its last valid day on `today`."""
    rows = await connection.fetch(
        """
        SELECT s.id FROM supplier_profiles s
        JOIN supplier_verifications v ON v.id = s.verification_id
        WHERE v.lapsed_at IS NULL AND v.valid_until < $1
        ORDER BY s.id
        """,
        today,
    )
    return [row["id"] for row in rows]


async def history(connection: Connection, supplier_id: int) -> list[VerificationRecord]:
    """Every verification of a supplier, newest first."""
    rows = await connection.fetch(
        _SELECT + " WHERE v.supplier_id = $1 ORDER BY v.id DESC", supplier_id
    )
    return [_record(row) for row in rows]
