"""A buyer that signs up after its notices were imported takes them over by organisation number."""

from __future__ import annotations

import msgspec

from asfmatch.storage import notices as repo
from asfmatch.storage import organisations as organisations_repo
from asfmatch.storage.db import Connection


class ClaimResult(msgspec.Struct, frozen=True, kw_only=True):
    """The imported needs a buyer took over (empty when there was nothing to take)."""

    organisation_id: int
    org_number: str
    claimed: list[int]


class NotABuyer(ValueError):
    """Only buyer organisations own needs."""


class UnknownOrganisation(LookupError):
    """No organisation has this id."""


async def claim_notices(connection: Connection, organisation_id: int) -> ClaimResult:
    """Give the buyer every unowned imported need whose notice names its organisation number.

    The number was checked when an admin onboarded the organisation, so it is trusted here;
    claiming twice is harmless (the second time claims nothing)."""
    organisation = await organisations_repo.get_organisation(connection, organisation_id)
    if organisation is None:
        raise UnknownOrganisation(organisation_id)
    if organisation.kind != "buyer":
        raise NotABuyer(f"organisation {organisation_id} is a {organisation.kind}, not a buyer")
    claimed = await repo.claim_needs(connection, organisation.id, organisation.org_number)
    return ClaimResult(
        organisation_id=organisation.id, org_number=organisation.org_number, claimed=claimed
    )
