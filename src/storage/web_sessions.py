"""Browser sessions of the pages and the links that open them (one-time sign-in, presenter)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from asfmatch.storage.db import Connection

SessionRole = Literal["buyer", "supplier", "admin", "viewer"]
LinkKind = Literal["signin", "viewer"]

SESSION_LIFETIME = timedelta(days=7)
SIGNIN_LINK_LIFETIME = timedelta(hours=24)


class WebSession(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in browser: whose it is, whom an admin acts for, and its CSRF token."""

    organisation_id: int | None
    role: SessionRole
    acting_for: int | None
    csrf_token: str
    expires_at: datetime


class WebLink(msgspec.Struct, frozen=True, kw_only=True):
    """A sign-in or presenter link as listed (never its token)."""

    id: int
    kind: LinkKind
    organisation_id: int | None
    label: str
    created_at: datetime
    expires_at: datetime | None


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def open_session(
    connection: Connection, organisation_id: int | None, role: SessionRole
) -> tuple[str, WebSession]:
    """Start a session; return the cookie value (kept only as a hash) and the session."""
    token = secrets.token_urlsafe(32)
    row = await connection.fetchrow(
        """
        INSERT INTO web_sessions (token_hash, organisation_id, role, csrf_token, expires_at)
        VALUES ($1, $2, $3, $4, now() + $5::interval)
        RETURNING organisation_id, role, acting_for, csrf_token, expires_at
        """,
        _hash(token),
        organisation_id,
        role,
        secrets.token_urlsafe(24),
        SESSION_LIFETIME,
    )
    assert row is not None
    return token, WebSession(**dict(row))


async def find_session(connection: Connection, token: str) -> WebSession | None:
    """The unexpired session behind a cookie value, or None."""
    row = await connection.fetchrow(
        """
        SELECT organisation_id, role, acting_for, csrf_token, expires_at FROM web_sessions
        WHERE token_hash = $1 AND expires_at > now()
        """,
        _hash(token),
    )
    return None if row is None else WebSession(**dict(row))


async def end_session(connection: Connection, token: str) -> None:
    """Sign out: the cookie value stops working at once."""
    await connection.execute("DELETE FROM web_sessions WHERE token_hash = $1", _hash(token))


async def set_acting_for(connection: Connection, token: str, organisation_id: int | None) -> None:
    """An admin session starts (or, with None, stops) acting for an organisation."""
    await connection.execute(
        "UPDATE web_sessions SET acting_for = $2 WHERE token_hash = $1 AND role = 'admin'",
        _hash(token),
        organisation_id,
    )


async def forget_expired_sessions(connection: Connection) -> int:
    """Delete sessions past their expiry; return how many."""
    status: str = await connection.execute("DELETE FROM web_sessions WHERE expires_at <= now()")
    return int(status.split()[-1])


async def create_link(
    connection: Connection,
    kind: LinkKind,
    organisation_id: int | None,
    label: str = "",
    lifetime: timedelta | None = None,
) -> tuple[WebLink, str]:
    """Make a link token (shown once); a sign-in link expires after `lifetime`."""
    token = secrets.token_urlsafe(32)
    row = await connection.fetchrow(
        """
        INSERT INTO web_links (token_hash, kind, organisation_id, label, expires_at)
        VALUES ($1, $2, $3, $4, now() + $5::interval)
        RETURNING id, kind, organisation_id, label, created_at, expires_at
        """,
        _hash(token),
        kind,
        organisation_id,
        label,
        lifetime,
    )
    assert row is not None
    return WebLink(**dict(row)), token


async def redeem_link(connection: Connection, token: str) -> WebLink | None:
    """The link behind a token if it still works; a sign-in link is spent by this call."""
    row = await connection.fetchrow(
        """
        UPDATE web_links SET used_at = now()
        WHERE token_hash = $1 AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())
          AND (kind = 'viewer' OR used_at IS NULL)
        RETURNING id, kind, organisation_id, label, created_at, expires_at
        """,
        _hash(token),
    )
    return None if row is None else WebLink(**dict(row))


async def link_works(connection: Connection, token: str, kind: LinkKind) -> bool:
    """True if this token is a usable link of `kind` (without spending it)."""
    found: bool = await connection.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM web_links WHERE token_hash = $1 AND kind = $2
                       AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
                       AND (kind = 'viewer' OR used_at IS NULL))
        """,
        _hash(token),
        kind,
    )
    return found


async def store_viewer_link(connection: Connection, token: str, label: str) -> None:
    """Register a presenter token chosen by the caller (the demo keeps its token across runs)."""
    await connection.execute(
        """
        INSERT INTO web_links (token_hash, kind, label) VALUES ($1, 'viewer', $2)
        ON CONFLICT (token_hash) DO NOTHING
        """,
        _hash(token),
        label,
    )
