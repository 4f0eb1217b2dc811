"""A buyer that signs up after its notices were imported takes them over by organisation number."""

from __future__ import annotations

import msgspec

from asfmatch.services.access import may_manage, require
from asfmatch.services.approval import WAITING
from asfmatch.services.errors import Conflict, NotFound
from asfmatch.storage import notices as repo
from asfmatch.storage import organisations as organisations_repo
from asfmatch.storage import signups
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal


class ClaimResult(msgspec.Struct, frozen=True, kw_only=True):
    """The imported needs a buyer took over (empty when there was nothing to take)."""

    organisation_id: int
    org_number: str
    claimed: list[int]


async def claim_notices(
    connection: Connection, principal: Principal | None, organisation_id: int
) -> ClaimResult:
    """Give the buyer every unowned imported need whose notice names its organisation number
    (the buyer itself or an admin may ask).

    The number was checked when an admin onboarded or approved the organisation, so it is
    trusted here; claiming twice is harmless (the second time claims nothing)."""
    may_manage(require(principal, "admin", "buyer"), organisation_id)
    organisation = await organisations_repo.get_organisation(connection, organisation_id)
    if organisation is None:
        raise NotFound("organisation", organisation_id)
    if organisation.kind != "buyer":
        raise Conflict(f"organisation {organisation_id} is a {organisation.kind}, not a buyer")
    # A self-registered buyer's number is unchecked until an admin approves it; a claim before
    # then would hand a kommun's notices to whoever typed its number.
    if await signups.is_pending(connection, organisation.id):
        raise Conflict(f"organisation {organisation_id} {WAITING}")
    claimed = await repo.claim_needs(connection, organisation.id, organisation.org_number)
    return ClaimResult(
        organisation_id=organisation.id, org_number=organisation.org_number, claimed=claimed
    )
