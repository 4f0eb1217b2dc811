"""Browser sign-in: an API key or a link becomes a session; admins make one-time links and act
for an organisation; the presenter's link opens a read-only session."""

from __future__ import annotations

from asfmatch.services.access import require
from asfmatch.services.errors import NotFound
from asfmatch.storage import organisations, web_sessions
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Organisation, Principal


async def sign_in_with_key(db: Connection, api_key: str) -> tuple[str, str] | None:
    """(session token, role) for a valid key; None for an unknown or revoked one."""
    principal = await organisations.authenticate(db, api_key) if api_key else None
    if principal is None:
        return None
    # Sign-ins are rare next to page views: a good moment to drop sessions past their expiry.
    await web_sessions.forget_expired_sessions(db)
    token, _ = await web_sessions.open_session(db, principal.organisation_id, principal.role)
    return token, principal.role


async def sign_in_with_link(db: Connection, link_token: str) -> tuple[str, str] | None:
    """(session token, role) for a working link (a sign-in link is spent); None otherwise."""
    link = await web_sessions.redeem_link(db, link_token)
    if link is None:
        return None
    if link.kind == "viewer":
        token, _ = await web_sessions.open_session(db, None, "viewer")
        return token, "viewer"
    assert link.organisation_id is not None
    organisation = await organisations.get_organisation(db, link.organisation_id)
    if organisation is None:
        return None
    token, _ = await web_sessions.open_session(db, organisation.id, organisation.kind)
    return token, organisation.kind


async def sign_out(db: Connection, session_token: str) -> None:
    """End a session."""
    await web_sessions.end_session(db, session_token)


async def _organisation(db: Connection, organisation_id: int) -> Organisation:
    found = await organisations.get_organisation(db, organisation_id)
    if found is None:
        raise NotFound("organisation", organisation_id)
    return found


async def create_signin_link(
    db: Connection, principal: Principal | None, organisation_id: int
) -> tuple[Organisation, str]:
    """An admin makes a link that signs `organisation_id` in once, within 24 hours."""
    require(principal, "admin")
    organisation = await _organisation(db, organisation_id)
    _, token = await web_sessions.create_link(
        db,
        "signin",
        organisation.id,
        label="admin",
        lifetime=web_sessions.SIGNIN_LINK_LIFETIME,
    )
    return organisation, token


async def act_for(
    db: Connection, principal: Principal | None, session_token: str, organisation_id: int | None
) -> None:
    """An admin's session starts acting for an organisation (None: stops)."""
    require(principal, "admin")
    if organisation_id is not None:
        await _organisation(db, organisation_id)
    await web_sessions.set_acting_for(db, session_token, organisation_id)


async def ensure_viewer_link(db: Connection, link_token: str, label: str) -> None:
    """Register the presenter's read-only link (kept by the demo across restarts)."""
    await web_sessions.store_viewer_link(db, link_token, label)
