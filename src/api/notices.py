"""Imported public notices over HTTP: a buyer claims the needs its notices became."""

from __future__ import annotations

from litestar import Controller, post

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Caller, Db
from asfmatch.notices.claims import ClaimResult, claim_notices


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
        return await claim_notices(db, principal, organisation_id)
