"""Imported public notices: a buyer claims the needs its notices became."""

from __future__ import annotations

from litestar import Controller, post

from asfmatch.api.errors import ApiError, forbidden, not_found
from asfmatch.api.schemas import PathId
from asfmatch.api.state import Caller, Db, require
from asfmatch.notices.claims import ClaimResult, NotABuyer, UnknownOrganisation, claim_notices


class NoticeClaimController(Controller):
    """/api/v1/organisations/{id}/claim-notices"""

    path = "/api/v1/organisations"
    tags = ["organisations"]

    @post(
        "/{organisation_id:int}/claim-notices",
        status_code=200,
        summary="Take over the needs imported from this buyer's notices (by organisation number)",
    )
    async def claim(self, db: Db, principal: Caller, organisation_id: PathId) -> ClaimResult:
        caller = require(principal, "admin", "buyer")
        if caller.role != "admin" and caller.organisation_id != organisation_id:
            raise forbidden("a buyer may only claim its own organisation's notices")
        try:
            return await claim_notices(db, organisation_id)
        except UnknownOrganisation:
            raise not_found("organisation", organisation_id) from None
        except NotABuyer as error:
            raise ApiError(409, "Conflict", str(error)) from None
