"""Organisations (buyers, suppliers, admins) and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from asfmatch.storage.db import Connection
from asfmatch.storage.matches import bump_lists_showing, lock_supplier_sides
from asfmatch.storage.paging import Page, Query

OrganisationKind = Literal["buyer", "supplier", "admin"]

KEY_PREFIX = "asfm_"


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    """A buyer, a supplier or an admin (support body) organisation."""

    id: int
    kind: OrganisationKind
    name: str
    org_number: str
    contact_email: str | None
    created_at: datetime


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key as listed: never the secret, only its public prefix."""

    id: int
    organisation_id: int
    prefix: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the organisation behind a valid key and its role."""

    organisation_id: int
    role: OrganisationKind
    key_id: int
    # The organisation's supplier profile when the key was looked up. A profile never changes
    # hands once made, so a number is final; None may also mean "none yet": look it up.
    supplier_id: int | None = None


class DuplicateOrgNumber(Exception):
    """Another organisation already has this organisation number."""


_ORG_COLUMNS = "id, kind, name, org_number, contact_email, created_at"
_KEY_COLUMNS = "id, organisation_id, prefix, label, created_at, last_used_at, revoked_at"


def _organisation(row: asyncpg.Record) -> Organisation:
    return Organisation(**dict(row))


async def create_organisation(
    connection: Connection,
    *,
    kind: OrganisationKind,
    name: str,
    org_number: str,
    contact_email: str | None = None,
) -> Organisation:
    """Insert an organisation; raise DuplicateOrgNumber if the number is taken."""
    try:
        row = await connection.fetchrow(
            f"""
            INSERT INTO organisations (kind, name, org_number, contact_email)
            VALUES ($1, $2, $3, $4) RETURNING {_ORG_COLUMNS}
            """,
            kind,
            name,
            org_number,
            contact_email,
        )
    except asyncpg.UniqueViolationError:
        raise DuplicateOrgNumber(org_number) from None
    assert row is not None
    return _organisation(row)


async def get_organisation(connection: Connection, organisation_id: int) -> Organisation | None:
    """The organisation with this id, or None."""
    row = await connection.fetchrow(
        f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id = $1", organisation_id
    )
    return None if row is None else _organisation(row)


async def find_organisation(connection: Connection, org_number: str) -> Organisation | None:
    """The organisation with this organisation number, or None."""
    row = await connection.fetchrow(
        f"SELECT {_ORG_COLUMNS} FROM organisations WHERE org_number = $1", org_number
    )
    return None if row is None else _organisation(row)


async def list_organisations(
    connection: Connection, *, kind: OrganisationKind | None, page: int, page_size: int
) -> Page[Organisation]:
    """One page of organisations, optionally of one kind, with the bounded count of
    storage/paging.py (at most 1,000 counted), in one statement."""
    query = Query()
    if kind is not None:
        query.where(f"kind = {query.arg(kind)}")
    return await query.page(
        connection,
        f"SELECT {_ORG_COLUMNS} FROM organisations",
        "id",
        lambda row: Organisation(**{k: v for k, v in row.items() if k != "total"}),
        page=page,
        page_size=page_size,
    )


async def update_organisation(
    connection: Connection, organisation_id: int, changes: dict[str, object]
) -> None:
    """Change name, organisation number or contact e-mail of an organisation; a new name moves
    the cached lists that show it, in the caller's transaction."""
    allowed = {"name", "org_number", "contact_email"}
    columns = [column for column in changes if column in allowed]
    if not columns:
        return
    renamed = "name" in columns and changes["name"] != await connection.fetchval(
        "SELECT name FROM organisations WHERE id = $1", organisation_id
    )
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=2))
    try:
        await connection.execute(
            f"UPDATE organisations SET {assignments}, updated_at = now() WHERE id = $1",
            organisation_id,
            *(changes[column] for column in columns),
        )
    except asyncpg.UniqueViolationError:
        raise DuplicateOrgNumber(str(changes.get("org_number"))) from None
    if renamed:
        await _bump_lists_naming(connection, organisation_id)


async def _suppliers_naming(connection: Connection, organisation_id: int) -> set[int]:
    # Its own profile, and every supplier it verified: a need list's badge names the support
    # body of the supplier's latest verification (any one it gave is a safe superset).
    rows = await connection.fetch(
        """
        SELECT id FROM supplier_profiles WHERE organisation_id = $1
        UNION SELECT supplier_id FROM supplier_verifications WHERE verified_by = $1
        """,
        organisation_id,
    )
    return {row["id"] for row in rows}


async def _bump_lists_naming(connection: Connection, organisation_id: int) -> None:
    """Move the cached need lists that show the organisation's name (as the supplier on a row,
    or as the support body on a badge), as a verification moves those showing its supplier.
    (The public needs list shows buyers' names; sql/013_list_versions.sql moves that one.)"""
    shown = await _suppliers_naming(connection, organisation_id)
    await lock_supplier_sides(connection, sorted(shown))
    # Only now, after the lock order's rows, is the organisation locked against new references:
    # a verification it records meanwhile for another supplier either committed before this
    # lock (and is read below) or waits for this transaction, and renders the new name.
    await connection.execute(
        "SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE", organisation_id
    )
    late = await _suppliers_naming(connection, organisation_id) - shown
    if late:
        # Rare, and out of the lock order: a deadlock it closes is retried (api/retry.py).
        await lock_supplier_sides(connection, sorted(late))
    await bump_lists_showing(connection, sorted(shown | late))


def _hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_api_key(
    connection: Connection, organisation_id: int, label: str = ""
) -> tuple[ApiKey, str]:
    """Make a key with 256 random bits; return its listing and the secret, which is not kept."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = await connection.fetchrow(
        f"""
        INSERT INTO api_keys (organisation_id, prefix, key_hash, label)
        VALUES ($1, $2, $3, $4) RETURNING {_KEY_COLUMNS}
        """,
        organisation_id,
        prefix,
        _hash_key(secret),
        label,
    )
    assert row is not None
    return ApiKey(**dict(row)), secret


async def authenticate(connection: Connection, secret: str) -> Principal | None:
    """The principal behind an unrevoked key, or None for an unknown or revoked key."""
    row = await connection.fetchrow(
        """
        SELECT k.id, k.organisation_id, o.kind, s.id AS supplier_id,
               k.last_used_at < now() - interval '1 minute' OR k.last_used_at IS NULL AS stale
        FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
             LEFT JOIN supplier_profiles s ON s.organisation_id = k.organisation_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL
        """,
        _hash_key(secret),
    )
    if row is None:
        return None
    if row["stale"]:
        # At most one write a minute per key: a busy client must not turn every read into a write.
        await connection.execute(
            "UPDATE api_keys SET last_used_at = now() WHERE id = $1", row["id"]
        )
    return Principal(
        organisation_id=row["organisation_id"],
        role=row["kind"],
        key_id=row["id"],
        supplier_id=row["supplier_id"],
    )


async def organisation_of_key(connection: Connection, secret: str) -> int | None:
    """The organisation a key belongs to, revoked or not (for counting its requests)."""
    found: int | None = await connection.fetchval(
        "SELECT organisation_id FROM api_keys WHERE key_hash = $1", _hash_key(secret)
    )
    return found


async def count_active_keys_locked(connection: Connection, organisation_id: int) -> int:
    """Unrevoked keys of an organisation, with the organisation's row locked until the
    transaction ends, so two concurrent key creations cannot both pass a cap."""
    await connection.execute(
        "SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE", organisation_id
    )
    count: int = await connection.fetchval(
        "SELECT count(*) FROM api_keys WHERE organisation_id = $1 AND revoked_at IS NULL",
        organisation_id,
    )
    return count


async def list_api_keys(connection: Connection, organisation_id: int) -> list[ApiKey]:
    """Every key of an organisation, revoked ones included, newest first."""
    rows = await connection.fetch(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE organisation_id = $1 ORDER BY id DESC",
        organisation_id,
    )
    return [ApiKey(**dict(row)) for row in rows]


async def revoke_api_key(
    connection: Connection, organisation_id: int, key_id: int
) -> ApiKey | None:
    """Revoke a key of this organisation (idempotent); None if it has no such key."""
    row = await connection.fetchrow(
        f"""
        UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
        WHERE id = $1 AND organisation_id = $2 RETURNING {_KEY_COLUMNS}
        """,
        key_id,
        organisation_id,
    )
    return None if row is None else ApiKey(**dict(row))
