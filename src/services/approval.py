"""The one rule about self-registered organisations the other services apply: until an admin
approves one, it may not reach anyone (no live ASF profile, no published need)."""

from __future__ import annotations

from asfmatch.services.errors import FieldError, Invalid
from asfmatch.storage import signups
from asfmatch.storage.db import Connection

WAITING = "waits for an administrator's approval of the organisation"


async def refuse_while_pending(db: Connection, organisation_id: int, field: str) -> None:
    """Invalid naming `field` while the organisation waits for approval."""
    if await signups.is_pending(db, organisation_id):
        raise Invalid([FieldError(field, WAITING)])
