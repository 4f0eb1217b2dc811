"""/api/v1/suppliers/{id}/verifications: support bodies vouch for an ASF's criteria."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from asfmatch.api.guards import requires_key
from asfmatch.api.schemas import PathId
from asfmatch.api.state import Caller, Db, resources
from asfmatch.services import verifications as service
from asfmatch.services.verifications import VerificationCreate, VerificationHistory
from asfmatch.storage.verifications import VerificationRecord


class VerificationController(Controller):
    """/api/v1/suppliers/{id}/verifications"""

    path = "/api/v1/suppliers/{supplier_id:int}/verifications"
    guards = [requires_key]
    tags = ["suppliers"]

    @post(
        "/",
        status_code=201,
        summary="Record that your organisation checked the supplier's four criteria and "
        "target-group share (admins: support bodies)",
    )
    async def create(
        self,
        state: State,
        db: Db,
        principal: Caller,
        supplier_id: PathId,
        data: JSONBody[VerificationCreate],
    ) -> VerificationRecord:
        settings = resources(state).settings
        return await service.record_verification(db, settings, principal, supplier_id, data)

    @get("/", summary="Every verification of a supplier, newest first (the supplier or an admin)")
    async def index(self, db: Db, principal: Caller, supplier_id: PathId) -> VerificationHistory:
        return await service.history(db, principal, supplier_id)
