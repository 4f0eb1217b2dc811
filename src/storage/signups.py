"""Organisations that registered themselves and wait for an admin's approval."""

from __future__ import annotations

from datetime import datetime

import msgspec

from asfmatch.storage.db import Connection


class PendingOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    """A self-registered organisation no admin has approved yet."""

    id: int
    kind: str
    name: str
    org_number: str
    contact_email: str | None
    created_at: datetime


async def mark_pending(connection: Connection, organisation_id: int) -> None:
    """Hold a just-registered organisation back until an admin approves it."""
    await connection.execute(
        "UPDATE organisations SET approved_at = NULL WHERE id = $1", organisation_id
    )


async def is_pending(connection: Connection, organisation_id: int) -> bool:
    """True while the organisation waits for approval."""
    pending: bool | None = await connection.fetchval(
        "SELECT approved_at IS NULL FROM organisations WHERE id = $1", organisation_id
    )
    return bool(pending)


async def pending_organisations(connection: Connection, limit: int) -> list[PendingOrganisation]:
    """The oldest waiting organisations first."""
    rows = await connection.fetch(
        """
        SELECT id, kind, name, org_number, contact_email, created_at FROM organisations
        WHERE approved_at IS NULL ORDER BY created_at, id LIMIT $1
        """,
        limit,
    )
    return [PendingOrganisation(**dict(row)) for row in rows]


async def approve(connection: Connection, organisation_id: int) -> bool:
    """Approve a waiting organisation; False if it was not waiting."""
    done = await connection.fetchval(
        "UPDATE organisations SET approved_at = now() WHERE id = $1 AND approved_at IS NULL"
        " RETURNING id",
        organisation_id,
    )
    return done is not None
